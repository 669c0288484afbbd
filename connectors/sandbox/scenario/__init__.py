"""Provider-neutral company scenarios: the seed of the sandboxes, the demo and the tests."""

from connectors.sandbox.scenario.generator import generate_demo_company
from connectors.sandbox.scenario.model import (
    Scenario,
    ScenarioAllocation,
    ScenarioCompany,
    ScenarioContact,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioError,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
    load_scenario,
)

__all__ = [
    "Scenario",
    "ScenarioAllocation",
    "ScenarioCredit",
    "ScenarioCompany",
    "ScenarioContact",
    "ScenarioCustomer",
    "ScenarioError",
    "ScenarioInvoice",
    "ScenarioLine",
    "ScenarioPayment",
    "generate_demo_company",
    "load_scenario",
]
