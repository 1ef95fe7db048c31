#!/usr/bin/env bash
# Builds the control-plane binaries for the tier-3 tests from Go modules (no Docker):
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok; and for the
# real node: kubelet, kube-proxy and CoreDNS (containerd and runc are Debian's); and kubectl,
# with which a test runs the admin's documented commands (docs/admin.md) as written.
# Binaries are cached outside the repository, by Kubernetes version; a second run
# with everything present exits at once.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.15.0}"
KUEUE_VERSION="${KUEUE_VERSION:-v0.17.0}"

CACHE_ROOT="${RAPIDS_KF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-rapids-kf}"
VERSION_DIR="$CACHE_ROOT/controlplane/$K8S_VERSION"
BIN_DIR="$VERSION_DIR/bin"
MOD_DIR="$VERSION_DIR/modules"   # generated go.mod/go.sum, never committed
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
BINARIES=("${K8S_COMMANDS[@]}" etcd kwok coredns kueue)

if [[ "${1:-}" == "--print-bin-dir" ]]; then
  echo "$BIN_DIR"
  exit 0
fi

# The directory names the Kubernetes version; etcd and kwok carry a stamp file so
# that changing ETCD_VERSION or KWOK_VERSION rebuilds them.
want_version() {
  case "$1" in
    etcd) echo "$ETCD_VERSION" ;; kwok) echo "$KWOK_VERSION" ;; kueue) echo "$KUEUE_VERSION" ;;
    coredns) echo "$COREDNS_VERSION $(cksum < "$HERE/go/coredns.main.go")" ;;
    *) echo "$K8S_VERSION" ;;
  esac
}
have() {
  [[ -x "$BIN_DIR/$1" && "$(cat "$BIN_DIR/.$1.version" 2>/dev/null)" == "$(want_version "$1")" ]]
}
all_present() {
  local b
  for b in "${BINARIES[@]}"; do have "$b" || return 1; done
  [[ "$(cat "$BIN_DIR/kueue-config/.version" 2>/dev/null)" == "$KUEUE_VERSION 2" ]]  # 2: the files copied
}
if all_present; then
  echo "control-plane binaries present in $BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh needs Go >= 1.26 on PATH" >&2; exit 1; }
mkdir -p "$VERSION_DIR"
# One build per version at a time (two test sessions may start together).
exec 9>"$VERSION_DIR/.build.lock"
flock 9
if all_present; then
  echo "control-plane binaries present in $BIN_DIR (built by another process)"
  exit 0
fi
rm -rf "$VERSION_DIR"/.out.*  # left by a build that was killed

export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
mkdir -p "$BIN_DIR" "$MOD_DIR"
START_ALL=$SECONDS

step() { echo "==> $* ($(date +%T))"; }
took() { echo "    took $(( SECONDS - $1 ))s"; }

# go build into a temporary name, then rename: a killed build never leaves half a binary.
install_bins() {  # $1 = directory with fresh binaries
  local f
  local f b
  for f in "$1"/*; do
    [[ -e "$f" ]] || continue  # nothing built (kueue's config only)
    b=$(basename "$f")
    mv -f "$f" "$BIN_DIR/$b"
    want_version "$b" > "$BIN_DIR/.$b.version"
  done
}

# Makes a fresh module directory from a template under go/; sed fills the versions.
new_module() {  # $1 = name, $2 = template
  local dir="$MOD_DIR/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  sed -e "s/@K8S_VERSION@/$K8S_VERSION/g" -e "s/@ETCD_VERSION@/$ETCD_VERSION/g" \
      -e "s/@KWOK_VERSION@/$KWOK_VERSION/g" "$HERE/go/$2" > "$dir/go.mod"
  [[ -z "${3:-}" ]] || cp "$HERE/go/$3" "$dir/main.go"
  echo "$dir"
}

build_etcd() {
  have etcd && return 0
  local t=$SECONDS dir out
  step "etcd $ETCD_VERSION"
  dir=$(new_module etcd etcd.go.mod)
  out=$(mktemp -d "$VERSION_DIR/.out.XXXXXX")
  (cd "$dir" && go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
     && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  install_bins "$out" && rmdir "$out"
  took $t
}

build_kwok() {
  have kwok && return 0
  local t=$SECONDS dir out
  step "kwok $KWOK_VERSION (own module: it needs its own k8s.io versions)"
  dir=$(new_module kwok kwok.go.mod)
  out=$(mktemp -d "$VERSION_DIR/.out.XXXXXX")
  (cd "$dir" && go get -tool "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" \
     && go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
          -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok)
  install_bins "$out" && rmdir "$out"
  took $t
}

build_kubernetes() {
  local b missing=()
  for b in "${K8S_COMMANDS[@]}"; do
    have "$b" || missing+=("k8s.io/kubernetes/cmd/$b")
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  local t=$SECONDS dir out gomod minor staging ldflags pkg
  step "kubernetes $K8S_VERSION: ${missing[*]##*/}"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
          | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || { echo "cannot find go.mod of k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them by
  # ./staging/...; replace them here by their published v0.<minor>.<patch> releases.
  staging=$(sed -n 's/^[[:space:]]*\(k8s\.io\/[^[:space:]]*\) => \.\/staging\/.*/\1/p' "$gomod")
  [[ -n "$staging" ]] || { echo "no staging replace lines in $gomod" >&2; exit 1; }
  echo "    $(wc -w <<<"$staging") staging modules -> v0.${K8S_VERSION#v1.}"
  dir=$(new_module kubernetes kubernetes.go.mod)
  {
    echo "replace ("
    for pkg in $staging; do echo "	$pkg => $pkg v0.${K8S_VERSION#v1.}"; done
    echo ")"
  } >> "$dir/go.mod"
  minor=$(cut -d. -f2 <<<"$K8S_VERSION")
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  out=$(mktemp -d "$VERSION_DIR/.out.XXXXXX")
  (cd "$dir" \
    && go get -tool "${missing[@]/%/@$K8S_VERSION}" \
    && go build -trimpath -ldflags "$ldflags" -o "$out/" "${missing[@]}")
  install_bins "$out" && rmdir "$out"
  took $t
}

# CoreDNS in its own module (it needs newer k8s.io modules), with a main.go that links
# only the plugins the node uses (go/coredns.main.go): no forward, no cloud back ends.
build_coredns() {
  have coredns && return 0
  local t=$SECONDS dir out
  step "coredns $COREDNS_VERSION (own module, 7 plugins)"
  dir=$(new_module coredns coredns.go.mod coredns.main.go)
  out=$(mktemp -d "$VERSION_DIR/.out.XXXXXX")
  (cd "$dir" && go get "github.com/coredns/coredns@$COREDNS_VERSION" && go mod tidy \
     && go build -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
          -o "$out/coredns" .)
  install_bins "$out" && rmdir "$out"
  took $t
}

# Kueue's controller manager, from its own module (it pins its own k8s.io versions), and
# next to it the module's CRDs, webhook configurations and the manager's ClusterRole
# (config/components/{crd/bases,webhook,rbac}), which kueue.py applies pointed at loopback.
build_kueue() {
  have kueue && [[ "$(cat "$BIN_DIR/kueue-config/.version" 2>/dev/null)" == "$KUEUE_VERSION 2" ]] && return 0
  local t=$SECONDS dir out src
  step "kueue $KUEUE_VERSION (own module)"
  dir=$(new_module kueue kueue.go.mod)
  out=$(mktemp -d "$VERSION_DIR/.out.XXXXXX")
  (cd "$dir" && go get -tool "sigs.k8s.io/kueue/cmd/kueue@$KUEUE_VERSION")
  if ! have kueue; then
    (cd "$dir" && go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kueue/pkg/version.GitVersion=$KUEUE_VERSION" \
        -o "$out/kueue" sigs.k8s.io/kueue/cmd/kueue)
  fi
  src=$(cd "$dir" && go list -m -f '{{.Dir}}' sigs.k8s.io/kueue)
  rm -rf "$BIN_DIR/kueue-config" && mkdir -p "$BIN_DIR/kueue-config"
  cp "$src"/config/components/crd/bases/*.yaml "$BIN_DIR/kueue-config/"
  cp "$src"/config/components/webhook/manifests.yaml "$BIN_DIR/kueue-config/webhooks.yaml"
  cp "$src"/config/components/rbac/role.yaml "$BIN_DIR/kueue-config/role.yaml"
  cp "$src"/config/components/rbac/manager_secrets_role.yaml "$BIN_DIR/kueue-config/secrets-role.yaml"
  cp "$src"/config/components/crd/kustomization.yaml "$BIN_DIR/kueue-config/crd-kustomization.yaml"
  chmod -R u+w "$BIN_DIR/kueue-config"
  echo "$KUEUE_VERSION 2" > "$BIN_DIR/kueue-config/.version"
  install_bins "$out" && rmdir "$out"
  took $t
}

build_etcd
build_kwok
build_kubernetes
build_coredns
build_kueue
all_present || { echo "some binaries are missing in $BIN_DIR" >&2; exit 1; }
echo "==> all control-plane binaries in $BIN_DIR (total $(( SECONDS - START_ALL ))s)"
