# jupyter-rapids-kf: `make lab` runs JupyterLab with the extension, `make test` runs every test.
# Both set up what they need on a fresh machine (Python venv, jlpm packages, the build).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8888
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: lab test need-root setup build test-python test-js test-controlplane test-browser chromium screenshots screenshots-kubeflow clean

## Start JupyterLab with the extension (local backend unless Kubernetes is found).
# Containers often run as root, where Jupyter refuses to start without --allow-root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
lab: setup
	$(BIN)/jupyter lab --ServerApp.port=$(PORT) --ServerApp.ip=127.0.0.1 --no-browser $(ALLOW_ROOT)

## Run every test tier that CI runs.
test: setup need-root test-python test-js test-controlplane test-browser

setup: $(VENV)/.installed

# Re-install when the package definitions change; the frontend build is part of `pip install -e`.
$(VENV)/.installed: pyproject.toml package.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/jupyter labextension develop --overwrite .
	$(BIN)/jupyter server extension enable --sys-prefix jupyter_rapids_kf
	touch $@

## Rebuild the frontend after editing src/ or style/.
build: setup
	$(BIN)/jlpm build

test-python: setup
	$(BIN)/python -m pytest -q -m "not controlplane"

test-js: setup
	$(BIN)/jlpm prettier:check
	$(BIN)/jlpm test

# make test and make test-controlplane stop here, before anything runs, when not root.
need-root:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "The control-plane tier (make test-controlplane, part of make test) needs root; you are $$(id -un)." >&2; \
		echo "Its real node runs a kubelet, containerd and runc, makes network namespaces, a bridge and cgroups," >&2; \
		echo "adds host iptables rules (removed after), sets sysctls (restored), and installs Debian's" >&2; \
		echo "$(NODE_PACKAGES) when missing." >&2; \
		echo "Run 'sudo make test' (or make test in a root container or VM), or without root the other tiers:" >&2; \
		echo "  make test-python test-js test-browser   (test-browser needs Debian's chromium already installed)" >&2; \
		exit 1; fi

# Tier 3: kube-apiserver, controller-manager, scheduler, etcd and kwok built from Go modules
# (cached in ~/.cache/jupyter-rapids-kf; a cold build takes about 20 minutes on 2 cores).
# The real node (kubelet, kube-proxy, CoreDNS built too) needs root and Debian's container
# runtime, CNI plugins and image tools; they are installed when missing, as Chromium is below.
# Not root: the target stops at once with what to do instead.
NODE_PACKAGES := containerd runc containernetworking-plugins debootstrap umoci iptables conntrack
# Its browser test on the real node (test_real_browser.py) needs Chromium too (below).
test-controlplane: setup need-root chromium
	@for tool in containerd runc /usr/lib/cni/bridge debootstrap umoci iptables conntrack; do \
		command -v $$tool >/dev/null || test -x $$tool || missing=1; done; \
	if [ -n "$$missing" ]; then echo "installing Debian's $(NODE_PACKAGES)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(NODE_PACKAGES); fi
	bash tests/controlplane/build.sh
	CHROMIUM_PATH=$(CHROMIUM) $(BIN)/python -m pytest -q -m "controlplane and not by_hand" tests/controlplane

# The browser test needs Debian's Chromium (Playwright cannot download browsers here) and
# starts its own JupyterLab on a free loopback port.
CHROMIUM ?= /usr/bin/chromium
SCREENSHOT_DIR ?= $(CURDIR)/ui-tests/test-results/screenshots
UI_PORT ?= $(shell $(PYTHON) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

## Browser test: a person's clicks in a real JupyterLab (local backend), screenshots, UI latency.
# (The same clicks on the real node's pods, tests/real-node/, run once in test-controlplane.)
test-browser: build chromium
	cd ui-tests && jlpm install --immutable
	cd ui-tests && CHROMIUM_PATH=$(CHROMIUM) RAPIDS_KF_UI_PORT=$(UI_PORT) \
		SCREENSHOT_DIR=$(SCREENSHOT_DIR) jlpm test

chromium:
	@test -x $(CHROMIUM) || { \
		echo "Chromium not found at $(CHROMIUM): installing Debian's chromium"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

## Refresh docs/screenshots (light and dark) with the browser test.
screenshots:
	$(MAKE) test-browser SCREENSHOT_DIR=$(CURDIR)/docs/screenshots

## Refresh docs/screenshots/kubeflow-*.png with the browser test on the real node (root).
screenshots-kubeflow: setup need-root chromium
	bash tests/controlplane/build.sh
	CHROMIUM_PATH=$(CHROMIUM) SCREENSHOT_DIR=$(CURDIR)/docs/screenshots \
		$(BIN)/python -m pytest -q -s -m controlplane tests/controlplane/test_real_browser.py

clean:
	rm -rf $(VENV) node_modules lib ui-tests/node_modules ui-tests/test-results jupyter_rapids_kf/labextension jupyter_rapids_kf/_version.py tsconfig.tsbuildinfo
