"""Tiers and capabilities of the extension slots.

cpex-ts enforces tiers and capabilities in the TypeScript executor (every edit a Python
plugin returns is checked there); this module only carries the names plugins refer to.
"""

from __future__ import annotations

from enum import Enum


class MutabilityTier(str, Enum):
    IMMUTABLE = "immutable"
    MONOTONIC = "monotonic"
    MUTABLE = "mutable"


class Capability(str, Enum):
    READ_SUBJECT = "read_subject"
    READ_ROLES = "read_roles"
    READ_TEAMS = "read_teams"
    READ_CLAIMS = "read_claims"
    READ_PERMISSIONS = "read_permissions"
    READ_AGENT = "read_agent"
    READ_HEADERS = "read_headers"
    WRITE_HEADERS = "write_headers"
    READ_LABELS = "read_labels"
    APPEND_LABELS = "append_labels"
    READ_DELEGATION = "read_delegation"
    APPEND_DELEGATION = "append_delegation"
    # Rust cpex 0.2 capabilities accepted by cpex-ts configs.
    READ_CLIENT = "read_client"
    READ_WORKLOAD = "read_workload"
    READ_INBOUND_CREDENTIALS = "read_inbound_credentials"
    READ_DELEGATED_TOKENS = "read_delegated_tokens"
    WRITE_CANDIDATE_CONSTRAINT = "write_candidate_constraint"


class AccessPolicy(str, Enum):
    UNRESTRICTED = "unrestricted"
    CAPABILITY_GATED = "capability_gated"


class TierViolationError(Exception):
    """An extension edit its tier or the plugin's capabilities forbid."""
