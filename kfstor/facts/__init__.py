"""What an audit knows: Kubernetes helpers, storage and Kubeflow knowledge, and the facts view over a snapshot."""
