#!/bin/bash
# The default model on L8 Biome scenes enlarged FACTOR times (GDAL cubic; masks nearest), scored at that size:
# the "detecting on the scene upsampled" figures of the README's method section. Needs GDAL and `npm run build`.
#   bash scripts/upsampled-detection.sh train|val|test FACTOR [detect options, e.g. --k 6]
set -euo pipefail
split=$1 factor=$2
shift 2
data=$(dirname "$0")/../../shared/data/l8biome/$split
cli=$(dirname "$0")/../dist/cli/main.js
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
size=$((256 * factor))
pairs=()
for image in "$data"/images/*.tif; do
  name=$(basename "$image")
  gdal_translate -q -b 1 -b 2 -b 3 -b 4 -outsize $size $size -r cubic "$image" "$work/image_$name"
  gdal_translate -q -outsize $size $size -r nearest "$data/masks/$name" "$work/truth_$name"
  node "$cli" detect "$work/image_$name" -o "$work/mask_$name" --quiet "$@"
  pairs+=("$work/mask_$name" "$work/truth_$name")
done
node "$cli" eval "${pairs[@]}" --coding l8biome | grep -E "^(image|pooled)"
