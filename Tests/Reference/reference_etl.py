#!/usr/bin/env python3
"""An independent reference of docs/data-contract.md, written from the text of the contract in Python (its own JSON
parser, unicodedata, str.lower), used by the tests to cross-check Tandem's Swift ETL.

usage: reference_etl.py INPUT_DIR OUT_DIR
writes OUT_DIR/silver_judgments.jsonl, silver_videos.jsonl, gold.jsonl, report.json
"""
import json, math, re, sys, unicodedata, calendar, os

WS = set([*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])

def reject_constant(name):
    raise ValueError("non-finite " + name)

def strict_json(line):
    try:
        value = json.loads(line, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None

TS = re.compile(r'^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$', re.ASCII)

def parse_ts(s):
    if not isinstance(s, str):
        return None
    m = TS.match(s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    if y < 1 or not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1] or h > 23 or mi > 59 or se > 59:
        return None
    secs = calendar.timegm((y, mo, d, h, mi, se))
    frac = m.group(7)[1:] if m.group(7) else ""
    return (secs, (frac + "0" * 18)[:18])

def fmt(secs):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(secs))

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)

def norm_query(q):
    q = unicodedata.normalize("NFKC", q).lower()
    out, pending = [], False
    for ch in q:
        if ord(ch) in WS:
            pending = True
            continue
        if pending and out:
            out.append(" ")
        pending = False
        out.append(ch)
    return "".join(out)

ID = re.compile(r'^[A-Za-z0-9_-]{11}$', re.ASCII)

def canon(url):
    u = url.strip(" \t\n\r\x0b\x0c")
    u = u.split("#", 1)[0]
    query = ""
    if "?" in u:
        u, query = u.split("?", 1)
    if "://" not in u:
        return None
    scheme, rest = u.split("://", 1)
    if scheme.lower() not in ("http", "https"):
        return None
    host, slash, path = rest.partition("/")
    path = slash + path
    if host.lower() not in ("vid.example", "www.vid.example", "m.vid.example"):
        return None
    path = path.rstrip("/")
    vid = None
    if path == "/watch":
        for part in query.split("&"):
            name, _, value = part.partition("=")
            if name == "v":
                vid = value
                break
    elif path.startswith("/") and len(path) > 1 and "/" not in path[1:]:
        vid = path[1:]
    if vid is None or not ID.match(vid):
        return None
    return "https://www.vid.example/watch?v=" + vid

def tokens(text):
    t = unicodedata.normalize("NFKC", text).lower()
    out, cur = [], []
    for ch in t:
        if unicodedata.category(ch)[0] in "LN":
            cur.append(ch)
        elif cur:
            out.append("".join(cur)); cur = []
    if cur:
        out.append("".join(cur))
    return out

def fnv(s):
    h = 2166136261
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 16777619) % 2**32
    return h

MAX_LINE = 1 << 20  # bytes, without the "\n"; a longer line is bad_json whatever it holds

def read_lines(path):
    data = open(path, "rb").read()
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark is not part of the first line
        data = data[3:]
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return lines

def main(inp, out):
    os.makedirs(out, exist_ok=True)
    vreport = {"lines_total": 0, "quarantined": {"bad_json": 0, "missing_field": 0, "bad_url": 0}, "valid": 0, "duplicates_dropped": 0}
    videos = {}
    for raw in read_lines(os.path.join(inp, "videos.jsonl")):
        vreport["lines_total"] += 1
        if len(raw) > MAX_LINE:
            vreport["quarantined"]["bad_json"] += 1; continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            vreport["quarantined"]["bad_json"] += 1; continue
        o = strict_json(line)
        if o is None:
            vreport["quarantined"]["bad_json"] += 1; continue
        ok = all(isinstance(o.get(k), str) for k in ("url", "title", "description", "channel"))
        ok = ok and all(is_int(o.get(k)) and o.get(k) >= 0 for k in ("duration_s", "views"))
        ts = parse_ts(o.get("published"))
        if not ok or ts is None:
            vreport["quarantined"]["missing_field"] += 1; continue
        c = canon(o["url"])
        if c is None:
            vreport["quarantined"]["bad_url"] += 1; continue
        vreport["valid"] += 1
        if c in videos:
            vreport["duplicates_dropped"] += 1
        videos[c] = dict(video_url=c, title=o["title"], description=o["description"], channel=o["channel"],
                         duration_s=o["duration_s"], views=o["views"], published=ts[0])
    vreport["silver_videos"] = len(videos)

    jreport = {"lines_total": 0, "quarantined": {"bad_json": 0, "missing_field": 0, "label_out_of_range": 0, "unknown_video": 0}, "valid": 0, "duplicates_dropped": 0}
    best = {}
    for n, raw in enumerate(read_lines(os.path.join(inp, "judgments.jsonl"))):
        jreport["lines_total"] += 1
        if len(raw) > MAX_LINE:
            jreport["quarantined"]["bad_json"] += 1; continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            jreport["quarantined"]["bad_json"] += 1; continue
        o = strict_json(line)
        if o is None:
            jreport["quarantined"]["bad_json"] += 1; continue
        q, u, lab, ts = o.get("query"), o.get("video_url"), o.get("label"), parse_ts(o.get("judged_at"))
        if not isinstance(q, str) or not isinstance(u, str) or not is_int(lab) or ts is None or norm_query(q) == "":
            jreport["quarantined"]["missing_field"] += 1; continue
        if lab < 0 or lab > 3:
            jreport["quarantined"]["label_out_of_range"] += 1; continue
        c = canon(u)
        if c is None or c not in videos:
            jreport["quarantined"]["unknown_video"] += 1; continue
        jreport["valid"] += 1
        key = (norm_query(q), c)
        if key in best:
            jreport["duplicates_dropped"] += 1
            if (ts, n) < (best[key][1], best[key][2]):
                continue
        best[key] = (lab, ts, n)
    keys = sorted(best)
    jreport["silver_judgments"] = len(keys)

    if not keys:
        # No silver judgment: the run is refused and registers nothing (the report is kept, to compare counts).
        with open(os.path.join(out, "report.json"), "w") as f:
            json.dump({"judgments": jreport, "videos": vreport}, f, sort_keys=True)
        print("no judgment passed the checks; nothing to register", file=sys.stderr)
        sys.exit(1)

    with open(os.path.join(out, "silver_videos.jsonl"), "w") as f:
        for c in sorted(videos):
            v = dict(videos[c]); v["published"] = fmt(v["published"])
            f.write(json.dumps(v, ensure_ascii=False) + "\n")
    with open(os.path.join(out, "silver_judgments.jsonl"), "w") as f:
        for k in keys:
            f.write(json.dumps(dict(query=k[0], video_url=k[1], label=best[k][0], judged_at=fmt(best[k][1][0])), ensure_ascii=False) + "\n")
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"judgments": jreport, "videos": vreport}, f, sort_keys=True)

    # gold
    vt = {c: (tokens(v["title"]), tokens(v["description"]), set(tokens(v["channel"]))) for c, v in videos.items()}
    N = len(videos)
    def stats(i):
        df = {}
        total = 0
        for t in vt.values():
            total += len(t[i])
            for w in set(t[i]):
                df[w] = df.get(w, 0) + 1
        return df, (total / N if N else 0)
    dft, avgt = stats(0)
    dfd, avgd = stats(1)
    def bm25(qd, doc, df, avg):
        s = 0.0
        for w in qd:
            tf = doc.count(w)
            if tf > 0:
                idf = math.log(1 + (N - df[w] + 0.5) / (df[w] + 0.5))
                s += idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * len(doc) / avg))
        return s
    with open(os.path.join(out, "gold.jsonl"), "w") as f:
        for k in keys:
            q, c = k
            v = videos[c]; title, desc, chan = vt[c]
            qt = tokens(q); qd = list(dict.fromkeys(qt)); ql = len(qd)
            ot = sum(1 for w in qd if w in title); od = sum(1 for w in qd if w in desc); oc = sum(1 for w in qd if w in chan)
            age = (best[k][1][0] - v["published"]) / 86400
            d = v["duration_s"]
            buckets = [0.0] * 6
            buckets[0 if d < 60 else 1 if d < 240 else 2 if d < 600 else 3 if d < 1200 else 4 if d < 3600 else 5] = 1.0
            h = [0.0] * 32
            for qq in qd:
                for t in dict.fromkeys(title):
                    h[fnv(qq + " " + t) % 32] += 1
            feats = [bm25(qd, title, dft, avgt), bm25(qd, desc, dfd, avgd), ot, od, oc, ql, len(title), len(desc),
                     ot / ql if ql else 0, od / ql if ql else 0, 1 if ql > 0 and ot == ql else 0,
                     1 if (" " + " ".join(qt) + " ") in (" " + " ".join(title) + " ") else 0,
                     math.log1p(v["views"]), age, math.log1p(max(age, 0)), math.log1p(v["views"] / max(age, 1)),
                     math.log1p(d), *buckets, len(q), *h]
            f.write(json.dumps(dict(query=q, video_url=c, label=best[k][0], features=feats), ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
