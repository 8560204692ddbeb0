"""kfstor's built-in checks: one module per check, its id equal to the module name."""
