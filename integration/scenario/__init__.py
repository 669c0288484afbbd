"""Provider-neutral company scenarios: the seed of the sandboxes, the demo and the tests."""

from integration.scenario.model import (
    Scenario,
    ScenarioCompany,
    ScenarioContact,
    ScenarioCustomer,
    ScenarioError,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
    load_scenario,
)
from integration.scenario.generator import generate_demo_company

__all__ = [
    "Scenario",
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
