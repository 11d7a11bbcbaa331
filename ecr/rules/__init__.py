"""Review rules: what is checked (:mod:`.catalog`) and the engine that checks a block of
products over Arrow columns (:mod:`.engine`). No ORM and no Django settings here, so
tables of cases test every rule."""

from .blocks import BLOCK_SCHEMA, block_from_products
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
    tokenize,
)
from .columns import gtin_check, url_check
from .engine import ISSUE_SCHEMA, BlockReview, ReviewContext, review_block, review_products

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
    "review_block",
    "review_products",
    "tokenize",
    "url_check",
]
