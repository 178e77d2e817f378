#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# stat_check.py - checks of scripts/ksm-rmap-stat on what the guest's
# "stat" phase captured (scripts/guest/plan-test.sh), for tests/run.sh.
#
# usage: tests/stat_check.py OUTDIR RELEASE RANGE
# Prints one check a line: "name|expected|seen"; tests/run.sh
# turns each into a TAP result.  The tool ran from before the workload to
# after it (ended by SIGTERM), so the sums of its interval deltas must be
# the stats after minus before, exactly; its Prometheus file is parsed
# with Debian's python3-prometheus-client and must equal the stats read
# right after it.  Then, on the host, on copies of those files: the
# errors, and a reset.
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

from prometheus_client.parser import text_string_to_metric_families

out, release, want_range = sys.argv[1:4]
GAUGES = {"walks_in_flight", "enabled", "count"}


def check(name, expected, seen):
    print(f"{name}|{expected}|{seen}".replace("\n", " "))


def text(name):
    try:
        with open(os.path.join(out, name)) as f:
            return f.read()
    except OSError:
        return ""


def stats(name):
    try:
        return json.loads(text(name))
    except ValueError:
        return {}


def hist(name):
    h = {}
    for line in text(name).splitlines()[1:]:
        n, lo, hi, c = line.split()
        h[(n, int(lo))] = (int(hi), int(c))
    return h


def is_max(k):
    return re.search(r"(^|_)max_", k) is not None or k in GAUGES


before, after = stats("stat.before"), stats("stat.after")
counters = [k for k, v in after.items()
            if isinstance(v, int) and not is_max(k) and isinstance(before.get(k), int)]
delta = {k: after[k] - before[k] for k in counters}

# the table: the interval lines' counts add up
rows = re.findall(r"^\d\d:\d\d:\d\d  (\S+) walks  (\S+) loops  (\S+) iterations  (\S+) hits  "
                  r"skipped: (\S+) addr, (\S+) mm, (\S+) invalid\n.*? (\S+) victim waits  "
                  r"(\S+) incomplete walks  (\S+) missed  (\S+) probe misses$",
                  text("stat.txt"), re.M)
keys = ["walks", "loops", "iterations", "hits", "skip_addr", "skip_mm", "skip_invalid",
        "victim_waits", "incomplete_walks", "missed_mappings", "probe_misses"]
sums = [sum(int(r[i]) for r in rows) for i in range(len(keys))]
check(f"table: {len(rows)} intervals' {', '.join(keys)} add up to the stats after minus before",
      " ".join(str(delta.get(k)) for k in keys), " ".join(map(str, sums)))
last = re.split(r"^[0-9:]{8}  ", text("stat.txt"), flags=re.M)[-1]
check("table: no reset line; the last interval is the partial one the signal ended",
      "0 yes", f"{text('stat.txt').count(' reset: ')} "
      f"{'yes' if 'ended by a signal)' in last else 'no'}")

# JSON lines: every counter, the maxima, the histogram, the callers
lines = []
for line in text("stat.jsonl").splitlines():
    try:
        lines.append(json.loads(line))
    except ValueError:
        lines.append({"unparsed": line})
check(f"JSON lines: {len(lines)} lines, each a JSON object of an interval, no reset",
      "yes", "yes" if lines and all("walks" in j and not j.get("reset") for j in lines)
      else "no: " + text("stat.jsonl")[:200])
bad = [f"{k} {sum(j.get(k) or 0 for j in lines)}!={delta[k]}" for k in counters
       if sum(j.get(k) or 0 for j in lines) != delta[k]]
check(f"JSON lines: the deltas of all {len(counters)} counters add up to the stats after minus before",
      "", " ".join(bad))
check("JSON lines: the longest hold and walk of the intervals are the stats' max_hold_ns, max_walk_ns",
      f"{after.get('max_hold_ns')} {after.get('max_walk_ns')}",
      f"{max((j.get('max_hold_ns') or 0 for j in lines), default=None)} "
      f"{max((j.get('max_walk_ns') or 0 for j in lines), default=None)}")
hb, ha = hist("stat.hist_before"), hist("stat.hist")
hs = {}
for j in lines:
    for name, rows_ in j.get("hist", {}).items():
        for lo, hi, c in rows_:
            hs[(name, lo)] = hs.get((name, lo), 0) + c
want = {k: v[1] - hb.get(k, (0, 0))[1] for k, v in ha.items() if v[1] - hb.get(k, (0, 0))[1]}
check("JSON lines: the histograms' deltas (hold_ns, iterations, victim_wait_ns) add up to hist after minus before",
      sorted(want.items()), sorted(hs.items()))
walks = [w.split() for w in text("stat.walks").splitlines()[1:]]
check("JSON lines: the callers' walks and victims add up to the walks file (every walk of the run)",
      f"{len(walks)} {sum(int(w[13]) for w in walks)}",
      f"{sum(c['walks'] for j in lines for c in j.get('callers', []))} "
      f"{sum(c['victims'] for j in lines for c in j.get('callers', []))}")
check("JSON lines: the last interval is the partial one the signal ended",
      "True", lines[-1].get("partial") if lines else None)

# --prom: written once, atomically, parsed by the Prometheus client library
run = text("stat.promrun").split()
check("--prom FILE without -n: writes once, exits 0, leaves no temporary file",
      "rc=0 ksm_rmap.prom", " ".join(w for w in run if w.startswith("rc=") or "prom" in w))
ps, ph = stats("stat.prom_stats"), hist("stat.prom_hist")
try:
    fams = {f.name: f for f in text_string_to_metric_families(text("stat.prom"))}
    perr = ""
except Exception as e:     # the parser's verdict is the test
    fams, perr = {}, str(e)
check("--prom: parses with prometheus_client's text_string_to_metric_families", "", perr)
samples = {s.name + json.dumps(s.labels, sort_keys=True): s.value
           for f in fams.values() for s in f.samples}
check("--prom: every metric is named ksm_rmap_*; no pid or address among the labels", "",
      " ".join(n for n in samples if not n.startswith("ksm_rmap_") or
               re.search(r'"(pid|addr|address|comm)"', n)))
info = [s for s in fams.get("ksm_rmap_info", type("", (), {"samples": []})).samples]
check("--prom: ksm_rmap_info names the kernel release, the walk range, the layout",
      f"{release} {want_range} {ps.get('layout')} 1.0",
      " ".join(f"{s.labels.get('release')} {s.labels.get('range')} {s.labels.get('layout')} {s.value}"
               for s in info))
skipped = {"total_hold_ns": "ksm_rmap_loop_hold_seconds_sum",
           "victim_total_wait_ns": "ksm_rmap_victim_wait_seconds_sum"}
bad = []
n = 0
for k, v in ps.items():
    if not isinstance(v, int):
        continue
    if k in skipped:
        name = skipped[k]
    else:
        name = "ksm_rmap_" + re.sub(r"_ns$", "_seconds", k)
        if not is_max(k):
            name = re.sub(r"^ksm_rmap_total_", "ksm_rmap_", name)
            name = name.replace("_total_", "_") + "_total"
    got = samples.get(name + "{}")
    if got is None:
        bad.append(f"{name}: missing")
        continue
    if k.endswith("_ns"):
        got = round(got * 1e9)
    n += 1
    if got != v:
        bad.append(f"{name}: {got} != {k} {v}")
check(f"--prom: the values of all {n} numeric stats keys equal stats.json (ns as seconds)", "",
      " ".join(bad))
bad = []
for name, hk, sumkey, secs in (("ksm_rmap_loop_hold_seconds", "hold_ns", "total_hold_ns", True),
                               ("ksm_rmap_victim_wait_seconds", "victim_wait_ns", "victim_total_wait_ns", True),
                               ("ksm_rmap_loop_iterations", "iterations", "iterations", False)):
    fam = fams.get(name)
    if fam is None or fam.type != "histogram":
        bad.append(f"{name}: no histogram")
        continue
    for s in fam.samples:
        if s.name == name + "_bucket":
            le = s.labels["le"]
            limit = float("inf") if le == "+Inf" else round(float(le) * (1e9 if secs else 1))
            want_c = sum(c for (hn, lo), (hi, c) in ph.items() if hn == hk and hi <= limit)
            if s.value != want_c:
                bad.append(f"{name} le={le}: {s.value} != {want_c}")
        elif s.name == name + "_count":
            if s.value != sum(c for (hn, lo), (hi, c) in ph.items() if hn == hk):
                bad.append(f"{name}_count: {s.value}")
        elif s.name == name + "_sum":
            if round(s.value * (1e9 if secs else 1)) != ps.get(sumkey):
                bad.append(f"{name}_sum: {s.value} != {sumkey} {ps.get(sumkey)}")
check("--prom: the histograms (hold, victim wait, iterations) equal hist: cumulative buckets, _count; _sum the stats' total",
      "", " ".join(bad))

# -n 2: two reports, then exit 0
check("-i 1 -n 2: two reports, exit 0", "2 rc=0",
      f"{len(re.findall(r'^[0-9:]{8}  ', text('stat.n2'), re.M))} "
      f"{(re.findall(r'^rc=.*', text('stat.n2'), re.M) or ['no rc'])[-1]}")

# On the host, on copies of the files captured above: the clear errors
# (one line on stderr, exit 1), and a reset between two snapshots, fed
# through FIFOs in the order the tool reads them (no clock involved).

tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "ksm-rmap-stat")


def run(args):
    p = subprocess.run(["sh", tool] + args, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


with tempfile.TemporaryDirectory() as d:
    files = {"stats.json": text("stat.after"), "hist": text("stat.hist"), "walks": text("stat.walks")}
    for name, broken, why in (("stats.json", lambda t: t.replace('"walks": ', '"walks": x', 1), "a value"),
                              ("hist", lambda t: "# another header\n" + t, "the header"),
                              ("walks", lambda t: t.replace("seq pid", "seq tid", 1), "the header")):
        for n, t in files.items():
            with open(os.path.join(d, n), "w") as f:
                f.write(broken(t) if n == name else t)
        rc, so, se = run(["-d", d, "-n", "1", "-i", "0.01"])
        check(f"host: {name} of an unknown format ({why}): exit 1, one line on stderr naming it, nothing on stdout",
              "1 1 yes 0", f"{rc} {len(se.splitlines())} "
              f"{'yes' if f'{d}/{name}: unknown format' in se else 'no: ' + se} {len(so)}")
    rc, so, se = run(["-d", os.path.join(d, "none")])
    check("host: a directory that is not there: exit 1, one line on stderr", "1 1", f"{rc} {len(se.splitlines())}")
    rc, so, se = run(["-i", "x"])
    check("host: -i x: exit 1, one line on stderr", "1 1", f"{rc} {len(se.splitlines())}")

    # reset: the second snapshot is the first one's "before" (counters back)
    for n in files:
        os.remove(os.path.join(d, n))
        os.mkfifo(os.path.join(d, n))
    snaps = [{"stats.json": text("stat.after"), "hist": text("stat.hist"), "walks": text("stat.walks")},
             {"stats.json": text("stat.before"), "hist": text("stat.hist_before"), "walks": "seq pid caller mapcount passes loops iterations skip_addr skip_mm hits missed max_hold_ns walk_ns victims victim_max_ns victim tree_vmas tree_owner end comm\n"}]

    def feed():
        for s in snaps:
            for n in ("stats.json", "hist", "walks", "stats.json"):
                path = os.path.join(d, n)
                with open(path, "w") as f:
                    # a reader has it open: the next open must find a
                    # new FIFO, not this one (or it would read on)
                    os.unlink(path)
                    os.mkfifo(path)
                    f.write(s[n])
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    rc, so, se = run(["-d", d, "-n", "1", "-i", "0.01", "-j"])
    t.join(5)
    try:
        j = json.loads(so.splitlines()[-1])
    except (ValueError, IndexError):
        j = {}
    check("host: counters that went back (a reset between two reads): the interval says reset, no negative count",
          "0 True no", f"{rc} {j.get('reset')} {'yes' if re.search(r': -[0-9]', so) else 'no'}")
