"""The audit hook lives in registry_site.audit, so that accounts_app (below this app) can
record its changes too; the catalog's and evaluation's services keep importing it here."""

from registry_site.audit import RequestMeta, audit, audit_hook_register

__all__ = ["RequestMeta", "audit", "audit_hook_register"]
