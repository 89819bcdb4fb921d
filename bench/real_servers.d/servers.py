"""The real Debian servers bench/real_servers and bench/teardown_overlap start.

Each runs in the foreground on 127.0.0.1 with its state in a temp dir,
multi-threaded as shipped or as configured here (scripts/setup installs them).
"""
import os
import shutil
import socket
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def servers(tmp):
    """(name, argv, env, port) for each installed server."""
    out = []
    def add(name, prog, argv, env=None, files=None):
        if shutil.which(prog) is None:
            print(f"skip {name}: {prog} not installed (scripts/setup installs it)", file=sys.stderr)
            return
        d = os.path.join(tmp, name.split()[0] + str(len(out)))
        os.makedirs(d)
        for fname, text in (files or {}).items():
            with open(os.path.join(d, fname), "w") as f:
                f.write(text.replace("@DIR@", d))
        out.append((name, [a.replace("@DIR@", d) for a in argv], env or {}, port))

    port = free_port()
    add("memcached (4 threads)", "memcached", ["memcached", "-u", "root", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64"])
    port = free_port()
    add("memcached -t 1", "memcached", ["memcached", "-u", "root", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64", "-t", "1"])
    port = free_port()
    add("nginx (2 workers)", "nginx", ["nginx", "-p", "@DIR@", "-c", "@DIR@/nginx.conf", "-e", "@DIR@/error.log"], files={
        "nginx.conf": f"""daemon off; master_process on; worker_processes 2; pid @DIR@/nginx.pid;
error_log @DIR@/error.log; events {{ worker_connections 64; }}
http {{ access_log off; client_body_temp_path @DIR@/b; proxy_temp_path @DIR@/p;
fastcgi_temp_path @DIR@/f; uwsgi_temp_path @DIR@/u; scgi_temp_path @DIR@/s;
server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok"; }} }} }}
"""})
    port = free_port()
    add("redis (io-threads 2)", "redis-server", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", "@DIR@",
        "--save", "", "--appendonly", "no", "--io-threads", "2", "--daemonize", "no", "--logfile", "@DIR@/log"])
    port = free_port()
    add("caddy (GOMAXPROCS=2)", "caddy", ["caddy", "run", "--config", "@DIR@/Caddyfile", "--adapter", "caddyfile"],
        env={"GOMAXPROCS": "2", "HOME": tmp, "XDG_DATA_HOME": tmp, "XDG_CONFIG_HOME": tmp},
        files={"Caddyfile": f"{{\n admin off\n auto_https off\n storage file_system @DIR@\n}}\nhttp://127.0.0.1:{port} {{\n respond \"ok\"\n}}\n"})
    port = free_port()
    add("haproxy (nbthread 2)", "haproxy", ["haproxy", "-db", "-f", "@DIR@/haproxy.cfg"], files={
        "haproxy.cfg": f"""global
  nbthread 2
defaults
  mode http
  timeout connect 1s
  timeout client 1s
  timeout server 1s
frontend f
  bind 127.0.0.1:{port}
  http-request return status 200
"""})
    port = free_port()
    add("node-exporter (GOMAXPROCS=2)", "prometheus-node-exporter",
        ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}"], env={"GOMAXPROCS": "2"})
    return out
