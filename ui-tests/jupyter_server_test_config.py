"""JupyterLab for the browser tests: Galata's test setup, the local backend, loopback only.

Galata's helper turns authentication and XSRF checks off (its own REST helpers need that);
the server listens on 127.0.0.1 only.
"""

import os
import tempfile

from jupyterlab.galata import configure_jupyter_server

# Clusters of this run live in their own runtime directory and stop with the server, so
# the test never adopts (or leaves behind) clusters of another Jupyter server.
os.environ["JUPYTER_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="rapids-kf-ui-runtime-")

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.port = int(os.environ.get("RAPIDS_KF_UI_PORT", "8899"))  # noqa: F821
c.RapidsKF.backend = "local"  # noqa: F821
c.RapidsKF.stop_local_clusters_on_exit = True  # noqa: F821
# A cluster left behind by a crashed run stops by itself after 10 idle minutes.
c.RapidsKF.idle_timeout = 600  # noqa: F821
c.LabApp.news_url = None  # noqa: F821
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"  # noqa: F821
c.ServerApp.allow_root = True  # CI containers often run as root  # noqa: F821
