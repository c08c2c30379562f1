#!/usr/bin/env bash
# The main job, from a fresh clone (Debian 12, as root): install the packages, build, then
#  1. detect faces in the bundled photo with the bundled RetinaFace model (OpenCV dnn + facepost)
#     and write the annotated image and the detections;
#  2. post-process a bundled real network output with the CLI and print its detections.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFACEPOST_BUILD_TOOLS=ON -DFACEPOST_BUILD_EXAMPLES=ON >/dev/null
cmake --build build -j"${FACEPOST_JOBS:-2}" --target detect_faces facepost_cli

echo
echo "== detect_faces on examples/images/astronaut.png"
./build/examples/detect_faces --out build/astronaut_faces.png --json build/astronaut_faces.json
echo "annotated image: $PWD/build/astronaut_faces.png   detections: $PWD/build/astronaut_faces.json"

echo
D=tests/data/crowd_mnet_native
echo "== facepost detect on $D (RetinaFace mobilenet0.25 outputs, 1024x624, 26240 priors)"
./build/tools/facepost detect --loc $D/loc.npy --conf $D/conf.npy --landms $D/landms.npy \
  --input-size 1024x624 --preset retinaface-mnet --repeat 200 --out build/crowd_dets.npy
./build/tools/facepost show build/crowd_dets.npy --max 10
