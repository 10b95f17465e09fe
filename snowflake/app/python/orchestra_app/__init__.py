"""Orchestra Data App: Python handlers for the Snowflake Native App.

Thin Snowflake entry points (handlers.py, udfs.py) over a plain client and loader that run, and are
tested, without Snowflake: client.py (HTTP), engine.py (the incremental algorithm), store.py (SQL).
"""

__version__ = "1.0.0"
