#!/usr/bin/env bash
# Throw-away single-node Ceph RADOS Gateway (a real S3 server) for tests.
#
#   scripts/s3-server.sh up      install Ceph if needed, start mon + OSD + radosgw
#   scripts/s3-server.sh down    stop the daemons and delete the data dir
#   scripts/s3-server.sh env     print `export S3_...` lines: eval "$(scripts/s3-server.sh env)"
#   scripts/s3-server.sh status  report daemons and S3 health (exit 1 if not healthy)
#
# Environment: ES_S3_DIR (default /tmp/encrypted-stream-rgw), RGW_PORT (default 7480),
# ES_S3_MON_PORT (default 3300), ES_S3_STORE=memstore|bluestore (default memstore).
# A second instance needs its own ES_S3_DIR, RGW_PORT and ES_S3_MON_PORT.
# Debian bookworm (Ceph 16.2), run as root, no systemd or Docker needed.
set -euo pipefail

DIR=${ES_S3_DIR:-/tmp/encrypted-stream-rgw}
DIR=${DIR%/}
PORT=${RGW_PORT:-7480}
STORE=${ES_S3_STORE:-memstore}
ACCESS_KEY=ESTESTACCESSKEY00001
SECRET_KEY=estestsecretkey000000000000000000000001
REGION=us-east-1
ENDPOINT=http://127.0.0.1:$PORT
CONF=$DIR/ceph.conf
RUN=$DIR/run
MARKER=$DIR/.encrypted-stream-s3   # proves the dir is ours before we rm -rf it
READY=$DIR/ready                   # written only once the whole bring-up succeeded
MON_PORT=${ES_S3_MON_PORT:-3300}
# msgr2 only: every client here is Ceph 16, and one port is one less to collide with
MON_ADDRS="[v2:127.0.0.1:$MON_PORT]"
RGW_NAME=client.rgw.es
BUCKET_POOLS=(default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec)

T0=${EPOCHREALTIME/./}
log() {
  local us=$((${EPOCHREALTIME/./} - T0))
  printf '[s3-server %3d.%01ds] %s\n' $((us / 1000000)) $((us / 100000 % 10)) "$*" >&2
}
die() { log "ERROR: $*"; exit 1; }

ceph_cli() { ceph -c "$CONF" --connect-timeout 10 "$@"; }

# Signed ListBuckets as our user: proves radosgw is up *and* the user exists.
# (curl does not add x-amz-content-sha256 itself, which radosgw requires: pass the
# SHA-256 of the empty body.)
s3_ok() {
  curl -sf -o /dev/null --max-time 5 --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' "$ENDPOINT/"
}

# wait_for SECONDS WHAT CMD... : poll CMD until it succeeds.
wait_for() {
  local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((${EPOCHREALTIME/./} > deadline)); then
      log "timed out waiting for $what; last log lines:"
      tail -n 15 "$DIR"/log/*.log >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
}

# PIDs of ceph-mon/ceph-osd/radosgw started with *our* config file. Matching on the
# config path (not just the pid file) means a pid recycled by an unrelated process
# after a kill -9 is never touched, and daemons whose pid file is gone are still found.
our_pids() {
  local p argv
  for p in /proc/[0-9]*; do
    argv=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    case ${argv%% *} in */ceph-mon | ceph-mon | */ceph-osd | ceph-osd | */radosgw | radosgw) ;; *) continue ;; esac
    [[ " $argv " == *" $CONF "* ]] && echo "${p#/proc/}"
  done
  return 0
}

# pid_alive NAME: the pid file of daemon NAME points at a live daemon of ours.
pid_alive() {
  local f=$RUN/$1.pid pid
  [ -s "$f" ] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- " $CONF "
}

# alive PID...: any of them still running. Zombies count as gone: in some containers
# PID 1 never reaps the (daemonized, re-parented) ceph processes.
alive() {
  local pid st
  for pid in "$@"; do
    st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    st=${st##*) }
    [ "${st:0:1}" = Z ] || return 0
  done
  return 1
}

# stop_pids SIGNAL GRACE_SECONDS PID...: signal, wait up to GRACE, then SIGKILL.
stop_pids() {
  local sig=$1 grace=$2 i
  shift 2
  [ $# -gt 0 ] || return 0
  kill "-$sig" "$@" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    alive "$@" || return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do alive "$@" || return 0; sleep 0.1; done
}

# Stop everything of ours and remove the data dir. Safe on a half-dead or absent setup.
teardown() {
  local name
  local -a stragglers=()
  # By pid file, clients first: radosgw stalls on SIGTERM once the OSD is gone. The OSD
  # gets SIGKILL: its data is thrown away anyway, and a memstore OSD would first dump
  # its whole RAM store to disk.
  for name in "$RGW_NAME" osd.0 mon.a; do
    pid_alive "$name" || continue
    if [ "$name" = osd.0 ]; then
      stop_pids KILL 2 "$(<"$RUN/$name.pid")"
    else
      stop_pids TERM 2 "$(<"$RUN/$name.pid")"
    fi
  done
  # Stragglers: daemons whose pid file is missing or stale (crash mid-start, rm'd dir).
  mapfile -t stragglers < <(our_pids)
  if [ ${#stragglers[@]} -gt 0 ]; then
    log "killing leftover daemons: ${stragglers[*]}"
    stop_pids KILL 2 "${stragglers[@]}"
  fi
  if [ -e "$DIR" ]; then
    [ -n "$DIR" ] && [ "$DIR" != / ] || die "refusing to delete '$DIR'"
    if [ -e "$MARKER" ] || [ -z "$(ls -A "$DIR")" ]; then
      rm -rf "$DIR"
    else
      die "$DIR exists but was not created by this script; remove it or set ES_S3_DIR"
    fi
  fi
}

healthy() {
  [ -e "$READY" ] && pid_alive mon.a && pid_alive osd.0 && pid_alive "$RGW_NAME" && s3_ok
}

# Whether Ceph reports a full OSD or pool (writes would block).
store_full() {
  ceph_cli health 2>/dev/null | grep -q 'full'
}

# The running cluster has the settings this version of the script (and the current
# ES_S3_STORE etc.) would give it; comments do not count.
conf_current() {
  [ "$(conf_text "$(sed -n 's/^fsid = //p' "$CONF")" | grep -v '^#')" = "$(grep -v '^#' "$CONF")" ]
}

install_packages() {
  local missing=0 cmd
  # `command -v a b c` only reports on the last name, so check each one.
  for cmd in radosgw ceph-mon ceph-osd uuidgen curl; do
    command -v "$cmd" >/dev/null || missing=1
  done
  [ $missing = 1 ] || return 0
  log "installing Ceph packages (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw uuid-runtime curl >/dev/null
  log "packages installed"
}

port_free() { # port_free PORT WHAT: fail early with a clear message instead of a daemon timeout
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    die "127.0.0.1:$1 ($2) is already in use by a process not started from $DIR"
  fi
}

conf_text() { # conf_text FSID
  cat <<EOF
# Generated by scripts/s3-server.sh; throw-away test cluster, do not edit.
[global]
fsid = $1
mon_host = $MON_ADDRS
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
# single trusted host: no cephx
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $RUN
pid_file = $RUN/\$name.pid
admin_socket = $RUN/\$name.asok
log_file = $DIR/log/\$name.log
keyring = $DIR/keyring
# one OSD, so every pool has exactly one replica
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
# By default the mon warns below 30% free disk and refuses to start at <=5% (some
# releases also shut a running mon down); CI disks are often that full, so only
# give up when less than 1% is left.
mon_data_avail_warn = 1
mon_data_avail_crit = 0
# every map change (pool create, OSD boot, ...) waits this long to be committed;
# the 1 s default makes bring-up several seconds slower (Ceph's own test clusters do this too)
paxos_propose_interval = 0.05
# there is no ceph-mgr here
mon_warn_on_insecure_global_id_reclaim_allowed = false

[mon]
mon_data = $DIR/mon/\$id

[osd]
osd_data = $DIR/osd/\$id
osd_objectstore = $STORE
# memstore: objects live in RAM, so a full host disk cannot crash the OSD. This is a
# cap, not an allocation; the OSD's RSS is roughly 2x the bytes stored.
memstore_device_bytes = 8589934592
# bluestore (ES_S3_STORE=bluestore): sparse file
bluestore_block_path = $DIR/osd/\$id/block.img
bluestore_block_size = 21474836480
bluestore_block_create = true
osd_memory_target = 1073741824

[$RGW_NAME]
# radosgw asks for "secure" mon connections by default, which auth=none cannot give
# ("failed to fetch mon config")
ms_mon_client_mode = crc
rgw_frontends = beast endpoint=127.0.0.1:$PORT
rgw_data = $DIR/rgw
# reclaim deleted/overwritten/aborted data after a minute instead of 2 h, so repeated
# test runs against one long-lived server do not fill the store
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
EOF
}

# run WHAT CMD...: run a setup step with its chatter in the log; show the log if it fails.
# The daemons fork into the background themselves; they must not inherit our stdout
# (a caller's $(...) would never finish) nor the lock fd (it would stay locked).
run() {
  local what=$1
  shift
  "$@" </dev/null >>"$DIR/log/setup.log" 2>&1 9>&- || { tail -n 20 "$DIR/log/setup.log" >&2; die "$what failed"; }
}

start_fresh() {
  local fsid osd_uuid osd_id pool
  mkdir -p "$DIR"
  : >"$MARKER"
  mkdir -p "$RUN" "$DIR"/{log,mon/a,osd/0,rgw}
  port_free "$MON_PORT" "ceph-mon"
  port_free "$PORT" "radosgw"

  fsid=$(uuidgen)
  conf_text "$fsid" >"$CONF"

  # --- monitor -------------------------------------------------------------
  run "ceph-authtool" ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *'
  run "monmaptool" monmaptool --create --fsid "$fsid" --addv a "$MON_ADDRS" "$DIR/monmap"
  run "ceph-mon --mkfs" ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring"
  run "ceph-mon" ceph-mon -c "$CONF" -i a
  wait_for 60 "ceph-mon" ceph_cli mon stat
  log "mon up"

  # --- OSD -----------------------------------------------------------------
  osd_uuid=$(uuidgen)
  osd_id=$(ceph_cli osd new "$osd_uuid")
  [ "$osd_id" = 0 ] || die "expected osd id 0, got '$osd_id'"
  run "ceph-osd --mkfs" ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid"
  run "ceph-osd" ceph-osd -c "$CONF" -i 0

  # Pre-create the bucket pools (while the OSD boots): radosgw would otherwise create
  # them lazily, stalling the first CreateBucket / PutObject / multipart upload.
  for pool in "${BUCKET_POOLS[@]}"; do
    run "pool create $pool" ceph_cli osd pool create "$pool" 8 8
    run "pool application $pool" ceph_cli osd pool application enable "$pool" rgw
  done
  log "bucket pools created"
  wait_for 120 "ceph-osd" bash -c "ceph -c '$CONF' --connect-timeout 10 osd stat -f json | grep -q '\"num_up_osds\":1'"
  log "osd up ($STORE)"

  # --- radosgw ---------------------------------------------------------------
  run "radosgw" radosgw -c "$CONF" -n "$RGW_NAME"
  wait_for 180 "radosgw" curl -sf -o /dev/null --max-time 5 "$ENDPOINT/"
  log "radosgw answering on $ENDPOINT"

  run "radosgw-admin user create" radosgw-admin -c "$CONF" user create --uid=encrypted-stream \
    --display-name="encrypted-stream tests" --access-key="$ACCESS_KEY" --secret="$SECRET_KEY"
  wait_for 30 "S3 user" s3_ok
  : >"$READY"
  log "S3 user ready"
}

# Serialise up/down (e.g. two CI jobs on one machine, including their apt-get) with a
# lock next to the data dir.
lock() {
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock -w 300 9 || die "timed out waiting for another s3-server.sh ($DIR.lock)"
}

cmd_up() {
  lock
  install_packages
  if healthy; then
    if ! conf_current; then
      log "the running S3 server has a different config; restarting it"
    elif store_full; then
      # A full OSD makes writes hang rather than fail; long bench sessions get there
      # (RGW's garbage collection lags behind gigabytes of deletes).
      log "the running S3 server's store is full; restarting it"
    else
      log "reusing the healthy S3 server already running from $DIR on $ENDPOINT"
      return 0
    fi
  fi
  if [ -e "$DIR" ] || [ -n "$(our_pids)" ]; then
    log "cleaning up stale state in $DIR"
    teardown
    log "stale state removed"
  fi
  start_fresh
  log "S3 server up on $ENDPOINT (data: $DIR); use: eval \"\$(scripts/s3-server.sh env)\""
}

cmd_down() {
  lock
  teardown
  log "S3 server down ($DIR removed)"
}

cmd_env() {
  cat <<EOF
export S3_ENDPOINT=$ENDPOINT
export S3_ACCESS_KEY_ID=$ACCESS_KEY
export S3_SECRET_ACCESS_KEY=$SECRET_KEY
export S3_REGION=$REGION
EOF
}

cmd_status() {
  local name ok=0
  for name in mon.a osd.0 "$RGW_NAME"; do
    if pid_alive "$name"; then
      echo "$name: running (pid $(<"$RUN/$name.pid"))"
    else
      echo "$name: not running"; ok=1
    fi
  done
  if s3_ok; then echo "S3: OK at $ENDPOINT"; else echo "S3: not answering at $ENDPOINT"; ok=1; fi
  if [ $ok = 0 ] && command -v ceph >/dev/null; then
    echo "ceph: $(ceph_cli health 2>&1 | head -n 1)"
  fi
  return $ok
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
