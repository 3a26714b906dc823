"""Data contracts: one YAML file per source, compiled to every judge that needs its rules.

A contract is written once. `rules` turns it into a list of named rules; `sql` compiles those to
DuckDB predicates that split a batch into loaded and quarantined rows; `ge_suite` compiles them to a
Great Expectations suite for asset checks; `record` judges one record at a time for the collect API.
"""

from data_contracts.model import Contract, ContractError, Field, contracts_dir, load_contract, load_contracts
from data_contracts.rules import Rule, contract_rules

__all__ = [
    "Contract",
    "ContractError",
    "Field",
    "Rule",
    "contract_rules",
    "contracts_dir",
    "load_contract",
    "load_contracts",
]
