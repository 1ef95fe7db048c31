"""The clusters capability: routes, the ClusterService (the only door to the cluster backend), the
request rules (defaults, profiles, guardrails), snippets, and the one way the service is built."""
