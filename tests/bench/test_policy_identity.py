"""decide's whole output on the identity cases matches the digests kept in bench/policy_identity.json.

A change meant to alter decisions records new digests (`bench/policy_identity.py --update-digests`)
in the same commit; any other change to what decide gives fails here.
"""

from __future__ import annotations

import json

from bench import policy_identity


def test_decide_gives_the_recorded_output_on_every_identity_case() -> None:
    kept = json.loads(policy_identity.DIGESTS.read_text())
    assert policy_identity.digests(policy_identity.cases()) == kept
