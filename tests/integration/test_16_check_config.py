"""`aclkd --check-config` (systemd's pre-start check) and the start refuse the same bad
configurations, with file:line: addresses and ports, TLS without a certificate, missing,
unreadable, unparseable or mismatched CA, certificate and key files."""

import os
import re
import unittest

from harness import BIN_DIR, Certs, Gateway, IntegrationTest, run


class CheckConfigTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.certs = Certs(os.path.join(self.work, "certs"))
        self.n = 0

    def check(self, web=None, cloud=None):
        self.n += 1
        gw = Gateway(os.path.join(self.work, f"gw{self.n}"), extra_cloud=cloud or {},
                     sections={"web": web or {}})
        r = run([os.path.join(BIN_DIR, "aclkd"), "-c", gw.etc, "--check-config"])
        return gw, r

    def assert_error(self, web=None, cloud=None, pattern=""):
        gw, r = self.check(web, cloud)
        conf = re.escape(os.path.join(gw.etc, "aclkd.conf"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"error: " + conf + r":\d+: " + pattern)
        self.assertIn("has errors", r.stderr)
        # The start refuses it with the same line, not a later, vaguer failure.
        start = run([os.path.join(BIN_DIR, "aclkd"), "-c", gw.etc], timeout=20)
        self.assertEqual(start.returncode, 1, start.stderr)
        self.assertRegex(start.stderr, r"error: " + conf + r":\d+: " + pattern)
        self.assertFalse(os.path.exists(gw.state), "a refused start must not create state")

    def test_addresses_and_ports(self):
        self.assert_error(web={"bind to": "127.0.0.1:99999"},
                          pattern=re.escape("[web] bind to = '127.0.0.1:99999': invalid port '99999' "
                                            "(expected 0..65535)"))
        self.assert_error(web={"bind to": "garbage:port:x"},
                          pattern=re.escape("[web] bind to = 'garbage:port:x': more than one ':'"))
        self.assert_error(web={"bind to": "not-an-ip:19999"},
                          pattern=re.escape("[web] bind to = 'not-an-ip:19999': 'not-an-ip' is "
                                            "not an IP address"))

    def test_tls_needs_a_certificate_and_key_that_match(self):
        self.assert_error(web={"bind to": "127.0.0.1:0^SSL=force"},
                          pattern=re.escape("[web] bind to = '127.0.0.1:0^SSL=force': TLS "
                                            "(^SSL=) needs both [web] ssl certificate and "
                                            "[web] ssl key"))
        missing = os.path.join(self.work, "missing.pem")
        self.assert_error(web={"bind to": "127.0.0.1:0^SSL=optional", "ssl certificate": missing,
                               "ssl key": self.certs.key},
                          pattern=re.escape(f"[web] ssl certificate = '{missing}': cannot read "
                                            f"'{missing}': No such file or directory"))
        self.assert_error(web={"bind to": "127.0.0.1:0^SSL=optional",
                               "ssl certificate": self.certs.cert,
                               "ssl key": self.certs.cert},
                          pattern=re.escape(f"[web] ssl key = '{self.certs.cert}': "
                                            f"'{self.certs.cert}' holds no unencrypted PEM "
                                            f"private key"))
        # The CA's key is a real key, but not the certificate's.
        ca_key = os.path.join(self.certs.dir, "ca.key")
        self.assert_error(web={"bind to": "127.0.0.1:0^SSL=optional",
                               "ssl certificate": self.certs.cert, "ssl key": ca_key},
                          pattern=re.escape(f"[web] ssl key = '{ca_key}': the key in '{ca_key}' "
                                            f"does not match the certificate"))
        _, r = self.check(web={"bind to": "127.0.0.1:0^SSL=force",
                               "ssl certificate": self.certs.cert, "ssl key": self.certs.key})
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_unknown_compression_algorithm_in_stream_conf(self):
        key = "11111111-2222-3333-4444-555555555555"
        gw = Gateway(os.path.join(self.work, "gw-compression"), stream_conf=(
            f"[{key}]\n    enabled = yes\n    compression algorithms order = zstd xz\n"))
        conf = re.escape(os.path.join(gw.etc, "stream.conf"))
        pattern = conf + ":3: " + re.escape(
            f"[{key}] compression algorithms order = 'zstd xz': unknown compression algorithm "
            "'xz' (known: zstd lz4 brotli gzip)")
        r = run([os.path.join(BIN_DIR, "aclkd"), "-c", gw.etc, "--check-config"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, pattern)

    def test_ca_file(self):
        missing = os.path.join(self.work, "no-ca.pem")
        self.assert_error(cloud={"ca file": missing},
                          pattern=re.escape(f"[cloud] ca file = '{missing}': cannot read"))
        junk = os.path.join(self.work, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        self.assert_error(cloud={"ca file": junk},
                          pattern=re.escape(f"[cloud] ca file = '{junk}': '{junk}' holds no PEM "
                                            f"certificate"))
        _, r = self.check(cloud={"ca file": self.certs.ca})
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
