"""Test support: the simulator as a subprocess and a Snowflake emulation over fakesnow."""
