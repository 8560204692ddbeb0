"""Live tests against a real kube-apiserver + etcd (see controlplane.py)."""
