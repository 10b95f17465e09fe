# Sourced before a README recipe runs (test/docker/harness.ts): defines the `docker` the recipe calls.
#   DOCKER_SHIM=container  `docker run|build` is podman, with host networking so that the connector
#                          reaches the simulator on 127.0.0.1.
#   DOCKER_SHIM=host       `docker run [opts] IMAGE ARGS` runs $ROOT/bin/main ARGS on the host, with
#                          the -v mounts mapped back onto host paths and the -e variables set.
# shellcheck shell=bash

if [ "${DOCKER_SHIM:-}" = container ]; then
  docker() {
    case "$1" in
      run) shift; podman run --network host "$@" ;;
      build) shift; podman build "$@" ;;
      *) echo "docker-shim: unsupported: docker $1" >&2; return 2 ;;
    esac
  }
elif [ "${DOCKER_SHIM:-}" = host ]; then
  docker() {
    [ "$1" = run ] || { echo "docker-shim: host mode emulates docker run only" >&2; return 2; }
    shift
    local -a mounts=() envs=() args=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --rm | -i | -t | -it | --init) shift ;;
        -v | --volume) mounts+=("$2"); shift 2 ;;
        -e | --env) envs+=("$2"); shift 2 ;;
        -u | --user | -m | --memory | --network | --name | -w | --workdir) shift 2 ;;
        --*=*) shift ;;
        -*) echo "docker-shim: host mode does not know docker run option $1" >&2; return 2 ;;
        *) shift; break ;; # the image
      esac
    done
    local a m src dst
    for a in "$@"; do
      for m in "${mounts[@]}"; do src=${m%%:*}; dst=${m#*:}; dst=${dst%%:*}; a=${a/#$dst/$src}; done
      args+=("$a")
    done
    env "${envs[@]}" "$ROOT/bin/main" "${args[@]}"
  }
else
  echo "docker-shim: set DOCKER_SHIM to container or host" >&2
  exit 2
fi
