"""Pushes and pulls OCI artifacts with oras-py (the `oras` package on PyPI), as an ORAS user.

usage: oras_artifact.py HOST:PORT WORKDIR USERNAME PASSWORD

Pushes an artifact (a file with a custom config media type), pulls it back and compares,
then pushes an SBOM that refers to it: an OCI 1.1 manifest with an `artifactType`, an empty
config and a `subject`, with the SDK's blob and manifest uploads, and pulls that back too.
Prints {"artifact": <digest>, "referrer": <digest>} for the caller's own checks.
"""

import hashlib
import json
import os
import sys

import oras.client
import oras.oci
import requests

host, work, username, password = sys.argv[1:5]
# oras pushes files named relative to the working directory, as its CLI does.
os.chdir(work)
client = oras.client.OrasClient(hostname=host, insecure=True)
client.login(username=username, password=password)


def write(name, content):
    with open(name, "w") as handle:
        handle.write(content)
    return name


def pulled_text(target, outdir):
    files = client.pull(target=target, outdir=outdir)
    assert len(files) == 1, files
    with open(files[0]) as handle:
        return handle.read()


readme = write("readme.txt", "an artifact pushed with oras\n")
config = write("config.json", '{"kind": "example"}')
target = f"{host}/ns/artifact:v1"
response = client.push(
    target=target,
    files=[f"{readme}:text/plain"],
    manifest_config=f"{config}:application/vnd.example.config.v1+json",
    manifest_annotations={"org.opencontainers.image.title": "example"},
)
response.raise_for_status()
artifact = response.headers["Docker-Content-Digest"]
assert pulled_text(target, "pulled") == "an artifact pushed with oras\n"

raw = requests.get(f"http://{host}/v2/ns/artifact/manifests/{artifact}", auth=(username, password))
raw.raise_for_status()
assert "sha256:" + hashlib.sha256(raw.content).hexdigest() == artifact

sbom_target = f"{host}/ns/artifact:sbom"
container = client.get_container(sbom_target)
sbom = write("sbom.spdx.json", '{"spdxVersion": "SPDX-2.3"}')
layer = oras.oci.NewLayer(sbom, "application/spdx+json", is_dir=False)
layer["annotations"] = {"org.opencontainers.image.title": "sbom.spdx.json"}
client.upload_blob(sbom, container, layer).raise_for_status()
empty = write("empty.json", "{}")
empty_config = {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest(),
    "size": 2,
}
client.upload_blob(empty, container, empty_config).raise_for_status()
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/vnd.example.sbom.v1+json",
    "config": empty_config,
    "layers": [layer],
    "subject": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": artifact,
        "size": len(raw.content),
    },
}
response = client.upload_manifest(manifest, container)
response.raise_for_status()
assert response.headers.get("OCI-Subject") == artifact, response.headers
referrer = response.headers["Docker-Content-Digest"]
assert json.loads(pulled_text(sbom_target, "pulled-sbom"))["spdxVersion"] == "SPDX-2.3"

print(json.dumps({"artifact": artifact, "referrer": referrer}))
