"""An example third-party kfstor check package (entry point group `kfstor.checks`)."""
