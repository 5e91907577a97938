#!/usr/bin/env python3
"""What nutcracker (twemproxy) adds per request in front of memcached, on
127.0.0.1: the grounds of `[proxy] service_time` (docs/validation.md, "The
proxy's service time"). Needs `memcached` and `nutcracker` on PATH (Debian:
apt-get install memcached nutcracker). Starts one of each on free ports,
runs a few seconds of traffic, stops them (by PID).

(c) nutcracker's CPU time (/proc/<pid>/stat utime + stime) over 30,000
    gets sent one at a time (each message its own read and write);
(a) the median round trip of one get at a time, straight to memcached and
    through nutcracker (10 × 500 each, interleaved);
(b, d) pipelined batches of 1,000 gets on one connection: gets/s, and
    nutcracker's CPU time per get.
"""
import os, signal, socket, statistics, subprocess, sys, tempfile, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

mc_port, nc_port, st_port = free_port(), free_port(), free_port()
mc = subprocess.Popen(["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p", str(mc_port), "-U", "0", "-t", "1"])
conf = f"""pool:
  listen: 127.0.0.1:{nc_port}
  hash: fnv1a_64
  distribution: ketama
  timeout: 400
  auto_eject_hosts: true
  server_failure_limit: 2
  server_retry_timeout: 30000
  server_connections: 1
  servers:
   - 127.0.0.1:{mc_port}:1
"""
tmp = tempfile.mkdtemp()
open(os.path.join(tmp, "nc.yml"), "w").write(conf)
nc = subprocess.Popen(["nutcracker", "-c", os.path.join(tmp, "nc.yml"), "-s", str(st_port),
                       "-o", os.path.join(tmp, "nc.log")])
print("pids", mc.pid, nc.pid, flush=True)
try:
    time.sleep(0.5)
    def conn(p):
        s = socket.create_connection(("127.0.0.1", p)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); return s
    d = conn(mc_port)
    d.sendall(b"set key:1 0 0 100\r\n" + b"x" * 100 + b"\r\n"); d.recv(100)
    p = conn(nc_port)
    req = b"get key:1\r\n"
    def rtt(s):
        t = time.perf_counter_ns(); s.sendall(req); buf = b""
        while not buf.endswith(b"END\r\n"):
            buf += s.recv(4096)
        return time.perf_counter_ns() - t
    for s in (d, p):
        for _ in range(500): rtt(s)
    def cpu(pid):
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    c0 = cpu(nc.pid); N = 30000; t0 = time.perf_counter()
    for _ in range(N): rtt(p)
    c1 = cpu(nc.pid)
    print(f"(c) nutcracker CPU over {N} sequential gets: {c1-c0:.2f} s = {(c1-c0)/N*1e6:.1f} us per request ({(c1-c0)/N/2*1e6:.1f} us per message), wall {time.perf_counter()-t0:.2f} s", flush=True)
    dir_, prx = [], []
    for rnd in range(10):
        dir_ += [rtt(d) for _ in range(500)]
        prx += [rtt(p) for _ in range(500)]
    q = lambda a, f: sorted(a)[int(f * len(a))] / 1000
    print(f"(a) sequential gets, {len(dir_)} each: direct median {q(dir_,.5):.1f} us p90 {q(dir_,.9):.1f}; "
          f"via nutcracker median {q(prx,.5):.1f} us p90 {q(prx,.9):.1f}; added median {q(prx,.5)-q(dir_,.5):.1f} us", flush=True)
    # (b) pipelined: batches of B gets in one write, several rounds.
    def pipelined(s, B, rounds):
        msg = req * B; total = 0
        t = time.perf_counter_ns()
        for _ in range(rounds):
            s.sendall(msg); n = 0; buf = b""
            while n < B:
                chunk = s.recv(1 << 20); n += chunk.count(b"END\r\n")
            total += B
        return total / ((time.perf_counter_ns() - t) / 1e9)
    for s, name in ((d, "direct"), (p, "nutcracker")):
        pipelined(s, 100, 20)
        c0 = cpu(nc.pid)
        rates = [pipelined(s, 1000, 20) for _ in range(5)]
        if name == "nutcracker":
            c1 = cpu(nc.pid)
            print(f"(d) nutcracker CPU over 100000 pipelined gets: {c1-c0:.2f} s = {(c1-c0)/100000*1e6:.2f} us per request", flush=True)
        print(f"(b) pipelined 1000-get batches {name}: {statistics.median(rates):.0f} gets/s "
              f"(runs {', '.join(f'{r:.0f}' for r in rates)})", flush=True)
finally:
    for pr in (nc, mc):
        os.kill(pr.pid, signal.SIGTERM); pr.wait()
