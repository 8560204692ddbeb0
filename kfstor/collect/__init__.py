"""Collecting a snapshot: the live cluster, kubectl output and kfstor snapshot files, the kind table, RBAC."""
