"""The one host the app may reach and the names of the egress objects the setup script creates.

The setup script (snowflake/app/setup_script.sql) creates the network rule, the app
specification, the integration and every routine bound to it; this module only names them for
the handlers' messages and for the tests that check the script against them.
"""

from __future__ import annotations

HOST_PORT = "app.getorchestra.io:443"
RULE = "config.orchestra_api_rule"
SECRET = "config.orchestra_api_key"
SECRET_NAME = "orchestra_api_key"
SPEC_NAME = "orchestra_api"
SPEC_LABEL = "Orchestra API"
STATUS_TABLE = "config.app_status"


def eai_name(app: str) -> str:
    """Integrations are account-wide: the setup script names this app's after the app itself
    ('"' || CURRENT_DATABASE() || '_ORCHESTRA_EAI"'), so two installs never collide."""
    return '"' + f"{app}_ORCHESTRA_EAI".replace('"', '""') + '"'
