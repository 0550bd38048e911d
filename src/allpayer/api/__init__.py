"""REST API and dashboard over a workspace's runs, with role-scoped bearer tokens (``create_app``)."""

from allpayer.api.app import create_app

__all__ = ["create_app"]
