# Shared by the HTTP benchmarks (sourced; expects $bin): installs wrk and
# nginx when missing, makes a work directory cleaned up at exit, starts nginx
# answering a fixed 204 on $nginx_port (and proxying to it on $proxy_port),
# creates a keypair and an HMAC secret in $work, and defines free_port and
# lua_for.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# nginx answering a fixed 204, as many workers as cores, and on $proxy_port
# the same nginx as a reverse proxy in front of itself with keep-alive to the
# upstream: the reference a forwarding proxy is measured against.
nginx_port=$(free_port)
proxy_port=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 204; }
  }
  upstream app { server 127.0.0.1:$nginx_port; keepalive 64; }
  server {
    listen 127.0.0.1:$proxy_port;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
"$nginx_bin" -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' &
pids+=($!)

# One signed request per scheme, fresh enough to verify for the whole run.
"$bin" keygen --private-key "$work/key.pem" --public-key "$work/pub.pem" >/dev/null 2>&1
"$bin" keygen --hmac --out "$work/secret" 2>/dev/null
lua_for() {  # capture.json -> a wrk script that POSTs it
  node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const q = (s) => JSON.stringify(s);
    let lua = "wrk.method = \"POST\"\nwrk.body = " + q(c.body) + "\nwrk.headers[\"Content-Type\"] = \"application/json\"\n";
    for (const [k, v] of Object.entries(c.headers)) if (k.startsWith("webhook-")) lua += "wrk.headers[" + q(k) + "] = " + q(v) + "\n";
    process.stdout.write(lua);' "$1"
}
