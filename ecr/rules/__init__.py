"""Review rules: what is checked (:mod:`.catalog`) and the engine that checks a block of
products over Arrow columns (:mod:`.engine`). No ORM and no Django settings here, so
tables of cases test every rule."""

from catalog_health.lazy import lazy_names

from .catalog import (
    AVAILABILITY_VALUES,
    CONDITION_VALUES,
    DENIED_CLAIM,
    ERROR,
    IMAGE_EXTENSIONS,
    PROHIBITED,
    REQUIRED_FIELDS,
    RESTRICTED,
    RULES,
    SEVERITIES,
    VARIANT_ATTRIBUTES,
    WARNING,
    Issue,
    PolicyTermSpec,
    RuleInfo,
    find_duplicate_ids,
    normalize_id,
    plural_forms,
    tokenize,
)

# The engine and its columns are Arrow code, loaded on first use: the models and forms import
# this package for the rules' names, and a web process that never reviews should not carry
# pyarrow.
_ARROW_NAMES = {
    "BLOCK_SCHEMA": "blocks",
    "block_from_products": "blocks",
    "gtin_check": "columns",
    "url_check": "columns",
    "ISSUE_SCHEMA": "engine",
    "BlockReview": "engine",
    "ReviewContext": "engine",
    "review_block": "engine",
    "review_products": "engine",
}


__getattr__ = lazy_names(__name__, _ARROW_NAMES)


__all__ = [
    "AVAILABILITY_VALUES",
    "BLOCK_SCHEMA",
    "CONDITION_VALUES",
    "DENIED_CLAIM",
    "ERROR",
    "IMAGE_EXTENSIONS",
    "ISSUE_SCHEMA",
    "PROHIBITED",
    "REQUIRED_FIELDS",
    "RESTRICTED",
    "RULES",
    "SEVERITIES",
    "VARIANT_ATTRIBUTES",
    "WARNING",
    "BlockReview",
    "Issue",
    "PolicyTermSpec",
    "ReviewContext",
    "RuleInfo",
    "block_from_products",
    "find_duplicate_ids",
    "gtin_check",
    "normalize_id",
    "plural_forms",
    "review_block",
    "review_products",
    "tokenize",
    "url_check",
]
