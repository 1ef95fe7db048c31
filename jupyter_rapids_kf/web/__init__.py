"""What every route shares: the base handler (auth, JSON bodies, the Error JSON), the event stream,
answers to unreadable bodies, and the proxies (a cluster's dashboard, jupyter-server-proxy's routes).

It imports no capability and no backend: services reach it through the tornado settings."""
