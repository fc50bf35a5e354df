#!/bin/sh
# Starts one Procfile process type (default: web). The Procfile is the only list of process types,
# so the image, docker-compose and the Elastic Beanstalk Node.js platform all start the same commands.
set -eu

type="${1:-web}"
procfile="${PROCFILE:-Procfile}"

case "$type" in
  *[!A-Za-z0-9_-]* | '') echo "invalid process type '$type'" >&2; exit 64 ;;
esac

cmd=$(sed -n "s/^${type}:[[:space:]]*//p" "$procfile")
if [ -z "$cmd" ]; then
  known=$(sed -n 's/^\([A-Za-z0-9_-]*\):.*/\1/p' "$procfile" | tr '\n' ' ')
  echo "unknown process type '$type'; $procfile defines: $known" >&2
  exit 64
fi

# The health check reads this to know which process it is checking.
export HOOKLANE_PROCESS_TYPE="$type"
# exec: node replaces this shell, so tini's SIGTERM reaches node directly.
eval "exec $cmd"
