"""A consumer's Snowflake account holding installed Native Apps: the part of Snowflake that fakesnow
does not have, modelled on the documented rules the app depends on (docs/snowflake-app.md cites
each one). Every rule here has a test that breaks it on purpose (test_standin_rules.py).

- The setup script runs SQL only: a CALL of a Python procedure during setup fails.
- A versioned schema (`CREATE OR ALTER VERSIONED SCHEMA`) holds only what the running version's
  setup script creates: an upgrade empties it and runs the new script; run-time creations vanish.
- Integrations are account-level, owned by the app that created them: a routine can bind only an
  integration that exists and that its app owns, and only secrets that integration allows.
- A routine bound to an integration reaches the network only once the app's EXTERNAL_ACCESS
  specification covering the rule's hosts is APPROVED; otherwise its connection fails.
- Application roles see only what was granted to them (USAGE on schemas and routines, SELECT on
  tables and views); they are never granted writes.
- A task runs its body by name at each firing; a missing target fails the run, and the task is
  suspended after 10 consecutive failures.
- DROP APPLICATION without CASCADE fails while the app owns account-level objects.

Where each part lives: account.py (the account), app.py (an installed app and its statement hook),
access.py, egress.py (integrations, specifications, the network guard), routines.py, tasks.py,
model.py (names and records).
"""

from ..scripting import ScriptingError
from .account import Account, copy_package
from .app import InstalledApp
from .model import Error, Integration, Routine, ident

__all__ = ["Account", "Error", "InstalledApp", "Integration", "Routine", "ScriptingError", "copy_package", "ident"]
