"""What the rooms speak to each other: the Cluster and Job objects, timelines, request limits,
version skew and GPU usage. Imports nothing of the package but errors.py."""
