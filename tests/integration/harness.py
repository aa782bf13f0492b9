"""Black-box harness: starts the real binaries (aclkd, aclk-testcloud, mosquitto, tinyproxy) on
loopback with a real TLS CA, and reads what they did. Python standard library only."""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

BIN_DIR = os.environ.get("ACLKD_BIN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin")
for _var in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
    os.environ.pop(_var, None)

ROOM = "0b4c1f0e-1111-4a5b-8c9d-000000000001"
OTHER_ROOM = "0b4c1f0e-2222-4a5b-8c9d-000000000002"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def read_varint(data, pos):
    """A LEB128 varint (7 bits a byte, low first) at data[pos]: (value, the position after it).
    MQTT's remaining lengths and the state store's context sets use it."""
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def listening(port):
    """True when something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Certs:
    """A CA and a server certificate for localhost/127.0.0.1, made with the openssl CLI."""

    def __init__(self, directory, name="aclkd test CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca = os.path.join(directory, "ca.crt")
        self.cert = os.path.join(directory, "server.crt")
        self.key = os.path.join(directory, "server.key")
        sh = f"""
set -e
cd '{directory}'
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj '/CN={name}' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 -extfile server.ext
"""
        r = run(["bash", "-c", sh])
        if r.returncode != 0:
            raise RuntimeError("certificate generation failed: " + r.stderr)


class Process:
    def __init__(self, cmd, log_path, env=None, stdout_path=None, preexec_fn=None):
        self.log_path = log_path
        self.stdout_path = stdout_path or log_path + ".out"
        self.out = open(self.stdout_path, "w")
        self.err = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, env=env,
                                     start_new_session=True, preexec_fn=preexec_fn)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        return self.proc.returncode

    def kill9(self):
        return self.stop(signal.SIGKILL)


class Mosquitto:
    """A real broker as docs/dependencies.md §2a: plain MQTT for the cloud side, wss with the test
    CA for agents. `log_type all` so tests can read PINGREQ lines (benchmarks may ask for less)."""

    def __init__(self, workdir, certs, log_type="all"):
        self.workdir = workdir
        self.mqtt_port = free_port()
        self.wss_port = free_port()
        key = os.path.join(certs.dir, "mosquitto.key")
        shutil.copy(certs.key, key)
        os.chmod(key, 0o600)
        if os.getuid() == 0:
            try:
                shutil.chown(key, "mosquitto")
            except (LookupError, PermissionError):
                pass
        self.conf = os.path.join(workdir, f"mosquitto-{self.wss_port}.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "per_listener_settings false", "allow_anonymous true", "persistence false",
                "log_dest stderr", f"log_type {log_type}", "log_timestamp true",
                "log_timestamp_format %s", "connection_messages true", "set_tcp_nodelay true",
                f"listener {self.mqtt_port} 127.0.0.1", "protocol mqtt", "max_topic_alias 65535",
                # A listener setting (default 10): the link aliases every topic of its list.
                f"listener {self.wss_port} 127.0.0.1", "protocol websockets",
                "max_topic_alias 65535",
                f"certfile {certs.cert}", f"keyfile {key}", ""]))
        self.log_path = os.path.join(workdir, f"mosquitto-{self.wss_port}.log")
        self.process = None
        self.start()

    def _listening(self, port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self):
        # Appends, so a restarted broker keeps the earlier lines (PINGREQ history).
        err = open(self.log_path, "a")
        self.process = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=err, stderr=err,
                                        start_new_session=True)
        self._err = err
        wait_for(lambda: self._listening(self.mqtt_port) and self._listening(self.wss_port), 15,
                 what="mosquitto to listen")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._err.close()
        self.process = None

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def log(self):
        return read_text(self.log_path)

    def last_pingreq(self, client_id):
        """Epoch time of the last PINGREQ the broker got from `client_id`, or None."""
        last = None
        for line in self.log().splitlines():
            if f"Received PINGREQ from {client_id}" in line:
                try:
                    last = float(line.split(":", 1)[0])
                except ValueError:
                    pass
        return last


class TestCloud:
    def __init__(self, workdir, certs, tokens, rooms=(ROOM,), port=None, mosquitto=None):
        self.certs = certs
        self.port = port or free_port()
        self.url = f"https://localhost:{self.port}"
        self.workdir = workdir
        self.log = os.path.join(workdir, f"testcloud-{self.port}.log")
        cmd = [os.path.join(BIN_DIR, "aclk-testcloud"), "--bind", "127.0.0.1", "--port",
               str(self.port), "--cert", certs.cert, "--key", certs.key]
        if mosquitto:
            cmd += ["--mqtt-endpoint", f"wss://localhost:{mosquitto.wss_port}/mqtt",
                    "--broker", f"tcp://127.0.0.1:{mosquitto.mqtt_port}"]
        for t in tokens:
            cmd += ["--token", t]
        for r in rooms:
            cmd += ["--room", r]
        self.process = Process(cmd, self.log)
        wait_for(lambda: "listening" in read_text(self.process.stdout_path), 15,
                 what="aclk-testcloud to listen")

    def api(self, path, method="GET", body=None):
        ctx = ssl.create_default_context(cafile=self.certs.ca)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def claims(self):
        return self.api("/testcloud/api/claims")

    def messages(self, claim_id=None, type=None, after=None):  # noqa: A002 - the API's own name
        """Recorded messages, oldest first; `after`: only those with a larger "seq"."""
        query = urllib.parse.urlencode({k: v for k, v in (("claim_id", claim_id),
                                                           ("type", type),
                                                           ("after", after)) if v})
        return self.api("/testcloud/api/messages" + ("?" + query if query else ""))

    def set_faults(self, **faults):
        """Exactly these faults; no arguments clears them all."""
        return self.api("/testcloud/api/faults", "PUT", faults)

    def agent(self, claim_id, action, **body):
        return self.api(f"/testcloud/api/agents/{claim_id}/{action}", "POST", body)

    def drop(self, claim_id):
        return self.agent(claim_id, "drop")

    def send(self, claim_id, type, **body):  # noqa: A002
        return self.agent(claim_id, "send", type=type, **body)

    def cmd(self, claim_id, method, path):
        return self.agent(claim_id, "cmd", method=method, path=path)

    def disconnect(self, claim_id, **fields):
        return self.agent(claim_id, "disconnect", **fields)

    def stop(self):
        self.process.stop()


class TinyProxy:
    def __init__(self, workdir, connect_ports, auth=None):
        self.port = free_port()
        conf = os.path.join(workdir, f"tinyproxy-{self.port}.conf")
        lines = [f"Port {self.port}", "Listen 127.0.0.1", "Allow 127.0.0.1", "Timeout 30",
                 "LogLevel Info", "MaxClients 20"]
        if os.getuid() == 0:
            lines = ["User tinyproxy", "Group tinyproxy"] + lines
        lines += [f"ConnectPort {p}" for p in connect_ports]
        if auth:
            lines.append(f"BasicAuth {auth[0]} {auth[1]}")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.process = Process(["tinyproxy", "-d", "-c", conf],
                               os.path.join(workdir, f"tinyproxy-{self.port}.log"))
        wait_for(self._listening, 10, what="tinyproxy to listen")

    def _listening(self):
        return listening(self.port)

    def stop(self):
        self.process.stop()


class MicroSocks:
    """A real SOCKS5 server (Debian `microsocks`), optionally with user/password (RFC 1929)."""

    def __init__(self, workdir, auth=None):
        self.port = free_port()
        cmd = ["microsocks", "-i", "127.0.0.1", "-p", str(self.port)]
        if auth:
            cmd += ["-u", auth[0], "-P", auth[1]]
        self.process = Process(cmd, os.path.join(workdir, f"microsocks-{self.port}.log"))
        wait_for(self._listening, 10, what="microsocks to listen")

    def _listening(self):
        return listening(self.port)

    def stop(self):
        self.process.stop()


class Gateway:
    """One aclkd with its own config, state and run folders."""

    def __init__(self, root, cloud_url=None, ca_file=None, extra_cloud=None, claim_conf=None,
                 env=None, extra_global=None, sections=None, stream_conf=None):
        self.root = root
        self.etc = os.path.join(root, "etc")
        self.state = os.path.join(root, "lib")
        self.rundir = os.path.join(root, "run")
        self.logdir = os.path.join(root, "log")
        for d in (self.etc, self.logdir):
            os.makedirs(d, exist_ok=True)
        self.socket = os.path.join(self.rundir, "aclkd.sock")
        self.log_file = os.path.join(self.logdir, "aclkd.log")
        self.cloud_d = os.path.join(self.state, "cloud.d")
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.process = None
        # Run in the child before exec (e.g. a lower RLIMIT_NOFILE); None for most tests.
        self.preexec_fn = None
        lines = ["[global]", f"    state dir = {self.state}", f"    run dir = {self.rundir}",
                 f"    log file = {self.log_file}", "    log level = debug"]
        lines += [f"    {k} = {v}" for k, v in (extra_global or {}).items()]
        lines += ["", "[cloud]"]
        if cloud_url:
            lines.append(f"    url = {cloud_url}")
        if ca_file:
            lines.append(f"    ca file = {ca_file}")
        lines += [f"    {k} = {v}" for k, v in (extra_cloud or {}).items()]
        # Every gateway streams on its own free port, so two never fight over 19999.
        self.stream_port = free_port()
        sections = dict(sections or {})
        web = {"bind to": f"127.0.0.1:{self.stream_port}"}
        web.update(sections.pop("web", {}))
        sections = {"web": web, **sections}
        for name, values in sections.items():
            lines += ["", f"[{name}]"] + [f"    {k} = {v}" for k, v in values.items()]
        self.write_conf("aclkd.conf", "\n".join(lines) + "\n")
        if stream_conf is not None:
            self.write_conf("stream.conf", stream_conf)
        if claim_conf is not None:
            self.write_claim_conf(claim_conf)

    def write_conf(self, name, text):
        with open(os.path.join(self.etc, name), "w") as f:
            f.write(text)

    def write_claim_conf(self, values):
        self.write_conf("claim.conf", "[global]\n" + "".join(
            f"    {k} = {v}\n" for k, v in values.items()))

    def start(self, wait=True):
        self.process = Process([os.path.join(BIN_DIR, "aclkd"), "-c", self.etc],
                               os.path.join(self.logdir, "aclkd.stderr"), env=self.env,
                               preexec_fn=self.preexec_fn)
        if wait:
            wait_for(lambda: self.ctl("aclk-state", "json").returncode == 0 or not self.alive(),
                     15, what="aclkd control socket")
            assert self.alive(), "aclkd exited at start: " + self.stderr()
        return self

    def alive(self):
        return self.process is not None and self.process.alive()

    def stop(self, sig=signal.SIGTERM):
        if self.process:
            code = self.process.stop(sig)
            self.process = None
            return code
        return None

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def ctl(self, *args, timeout=130):
        return run([os.path.join(BIN_DIR, "aclkctl"), "--socket", self.socket, *args],
                   timeout=timeout)

    def ctl_failure(self, what, r):
        """The failure of an aclkctl call, with the daemon's fate when it is gone (exit code or
        signal, the end of its log), so that a crash is told apart from a refusal."""
        text = f"{what} failed: {r.stderr}"
        if self.process is not None and not self.process.alive():
            code = self.process.proc.returncode
            fate = f"killed by signal {-code}" if code < 0 else f"exited with {code}"
            tail = "\n".join(self.stderr().splitlines()[-20:])
            text += f"\naclkd {fate}; the end of its log:\n{tail}"
        return AssertionError(text)

    def state_json(self):
        r = self.ctl("aclk-state", "json")
        if r.returncode != 0:
            raise self.ctl_failure("aclk-state json", r)
        return json.loads(r.stdout)

    def table(self, name):
        r = self.ctl(name, "json")
        if r.returncode != 0:
            raise self.ctl_failure(f"aclkctl {name} json", r)
        return json.loads(r.stdout)

    def node(self, machine_guid):
        for n in self.table("nodes"):
            if n["machine-guid"] == machine_guid:
                return n
        return None

    def wait_claimed(self, timeout=20):
        return wait_for(lambda: self.state_json()["agent-claimed"], timeout, what="claimed")

    def stderr(self):
        p = os.path.join(self.logdir, "aclkd.stderr")
        return read_text(p) if os.path.exists(p) else ""

    def log(self):
        return read_text(self.log_file) if os.path.exists(self.log_file) else ""

    def read(self, name):
        with open(os.path.join(self.cloud_d, name)) as f:
            return f.read()


class IntegrationTest(unittest.TestCase):
    """Gives each test a work folder, stops what it started, and checks that no secret reached
    any log file that the run wrote."""

    secrets = ()

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="aclkd-it-")
        os.chmod(self.work, 0o755)  # tinyproxy/mosquitto drop privileges and must read configs
        self._started = []
        self.secret_values = list(self.secrets)

    def track(self, obj):
        self._started.append(obj)
        return obj

    def tearDown(self):
        for obj in reversed(self._started):
            try:
                obj.stop()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
        self.assert_no_secrets_in_logs()
        if os.environ.get("ACLKD_KEEP_WORK"):
            print("work folder kept:", self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def add_private_key_secret(self, gateway):
        path = os.path.join(gateway.cloud_d, "private.pem")
        if os.path.exists(path):
            lines = [l for l in read_text(path).splitlines() if l and "-----" not in l]
            self.secret_values += lines[1:3]

    def assert_no_secrets_in_logs(self):
        for dirpath, _, files in os.walk(self.work):
            for name in files:
                if not (name.endswith(".log") or name.endswith(".stderr") or name.endswith(".out")):
                    continue
                text = read_text(os.path.join(dirpath, name))
                for secret in self.secret_values:
                    if secret and secret in text:
                        self.fail(f"secret {secret[:4]}… found in log {name}")


class NetdataChild:
    """A real Netdata agent (Debian's netdata 1.37 package) streaming to `port`, with its own
    config, cache, lib and log folders under `root`; cloud off, loopback only; its web API on
    127.0.0.1:`web_port` when given, else off."""

    def __init__(self, root, port, api_key, hostname, compression=True, web_port=None):
        self.root = root
        self.web_port = web_port
        self.etc = os.path.join(root, "etc")
        for d in ("etc", "cache", "lib", "log", "lib/cloud.d"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        user = "root" if os.getuid() == 0 else os.environ.get("USER", "netdata")
        web = ("    mode = none" if web_port is None else
               f"    mode = static-threaded\n    bind to = 127.0.0.1:{web_port}\n"
               "    allow connections from = localhost 127.0.0.1")
        with open(os.path.join(self.etc, "netdata.conf"), "w") as f:
            f.write(f"""[global]
    run as user = {user}
    hostname = {hostname}
    update every = 1
[directories]
    config = {self.etc}
    cache = {root}/cache
    lib = {root}/lib
    log = {root}/log
    home = {root}
[db]
    mode = ram
[web]
{web}
[registry]
    enabled = no
[health]
    enabled = no
[ml]
    enabled = no
[statsd]
    enabled = no
[logs]
    errors flood protection period = 0
""")
        with open(os.path.join(self.etc, "stream.conf"), "w") as f:
            f.write(f"""[stream]
    enabled = yes
    destination = tcp:127.0.0.1:{port}
    api key = {api_key}
    timeout seconds = 60
    reconnect delay seconds = 2
    enable compression = {"yes" if compression else "no"}
""")
        with open(os.path.join(root, "lib", "cloud.d", "cloud.conf"), "w") as f:
            f.write("[global]\n    enabled = no\n")
        self.process = None

    def start(self):
        self.process = Process(["netdata", "-D", "-c", os.path.join(self.etc, "netdata.conf")],
                               os.path.join(self.root, "netdata.stderr"))
        return self

    def machine_guid(self):
        path = os.path.join(self.root, "lib", "registry", "netdata.public.unique.id")
        return read_text(path).strip() if os.path.exists(path) else None

    def error_log(self):
        path = os.path.join(self.root, "log", "error.log")
        return read_text(path) if os.path.exists(path) else ""

    def stop(self):
        if self.process:
            self.process.stop(timeout=15)
            self.process = None


# One strict Prometheus reader for every test that scrapes /metrics.
METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
                         r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? '
                         r'(-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')


def start_netdata_v2(test, shared_v2, name, dest_port, key, *args):
    """Starts the shared Netdata v2 agent (`start-child`, in `shared_v2`) in the background in
    test.work/name, tracked by `test` (stopped with SIGTERM at tearDown); `args` go to
    start-child as they are (e.g. "--web-port", "19999", "--tls")."""
    cmd = [os.path.join(shared_v2, "start-child"), "--dir", os.path.join(test.work, name),
           "--dest", f"127.0.0.1:{dest_port}", "--key", key, "--background", *args]
    pid = int(subprocess.run(cmd, check=True, capture_output=True, text=True,
                             timeout=120).stdout.split()[-1])

    class Agent:
        def stop(self):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    return test.track(Agent())


def metric_series(port):
    """{series: value} of a gateway's /metrics, read by parse_metrics (strict); series as written,
    labels included (e.g. 'aclkd_web_dropped_total{reason="timeout"}')."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return parse_metrics(r.read().decode())[2]


def parse_metrics(text):
    """A strict reading of the Prometheus text format 0.0.4: HELP and TYPE before every family's
    samples, valid names, labels and values, counters named *_total, histogram buckets with
    `le`. Returns ({name: type}, {name: [values]}, {name{labels}: value})."""
    families, types, samples, series = {}, {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in families, f"HELP twice for {name}"
            families[name] = True
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name in families, f"TYPE before HELP for {name}"
            assert kind in ("counter", "gauge", "histogram"), kind
            assert name not in types, f"TYPE twice for {name}"
            assert (kind == "counter") == name.endswith("_total"), f"{name} is a {kind}"
            types[name] = kind
            if kind == "histogram":  # its samples are <name>_bucket{le=…}, _sum and _count
                for suffix in ("_bucket", "_sum", "_count"):
                    types[name + suffix] = kind
        elif line:
            m = METRIC_LINE.match(line)
            assert m, f"malformed sample line: {line!r}"
            assert m.group(1) in types, f"sample before TYPE: {line!r}"
            if m.group(1).endswith("_bucket") and types[m.group(1)] == "histogram":
                assert 'le="' in line, f"histogram bucket without le: {line!r}"
            samples.setdefault(m.group(1), []).append(float(m.group(7)))
            series[m.group(1) + (m.group(2) or "")] = float(m.group(7))
    return types, samples, series
