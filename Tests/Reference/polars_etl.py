#!/usr/bin/env python3
"""A benchmark reference of Tandem's ETL written with polars, timed beside `tandem etl` on the same input.

It computes what Tandem's ETL computes (docs/data-contract.md, docs/features.md "History (SCD type 2)" and
"Frozen statistics"): the quarantine report, silver judgments, silver videos with their point-in-time history, and
the 56 gold features, each gold row reading its video as of the judgment (a polars as-of join) with BM25 statistics
over the latest version of every video. Tests/Reference/reference_etl.py is the slow spec it must agree with.

Polars does the work: timestamps, query normalisation, URL canonicalisation, tokens, dedupe, history, the as-of
join, BM25 and the other features, the Parquet files. Two steps have no polars primitive: the strict JSON of each
line (str.json_decode coerces 1.0 and true to integers, keeps the first of duplicate keys and fails the whole
column on one bad line), done with orjson in one pass that only checks JSON types, and FNV-1a, done with numpy
over a table of (query token, title token) pairs and a bincount.

usage: polars_etl.py INPUT_DIR OUT_DIR [--threads 2] [--ingested-at 2026-12-06T01:21:21Z] [--jsonl]
INPUT_DIR holds videos.jsonl and judgments.jsonl. Writes OUT_DIR/report.json and silver_videos.parquet,
silver_video_history.parquet, silver_judgments.parquet, gold.parquet (f0..f55 float32); with --jsonl also the
silver_*.jsonl and gold.jsonl that Tests/Reference/compare.py reads (not timed). The last stdout line is a JSON
object with the timing. Exit 1 when no judgment passes the checks.
"""
import argparse, atexit, gc, json, multiprocessing, os, re, resource, shutil, sys, tempfile, time
from datetime import datetime, timezone

ap = argparse.ArgumentParser(description="Tandem's ETL in polars (benchmark reference)")
ap.add_argument("input"); ap.add_argument("out")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--ingested-at", default=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
ap.add_argument("--jsonl", action="store_true")
ARGS = ap.parse_args()
os.environ["POLARS_MAX_THREADS"] = str(ARGS.threads)
import orjson  # noqa: E402

# ---- strict JSON lines (the one step in Python: orjson, with the stdlib for the rare lines it cannot decide) ----
MAX_LINE, I64 = 1 << 20, (1 << 63) - 1
SURROGATE = re.compile("[\ud800-\udfff]")

def _reject(name): raise ValueError(name)
def _int(s): return int(s) if len(s) < 24 else (1 << 64) * (-1 if s[0] == "-" else 1)  # huge is all we need

def _sound(o):  # as Tandem's parser: no value nested at depth 512 or more, no lone surrogate escape
    stack = [(o, 0)]
    while stack:
        v, depth = stack.pop()
        if depth >= 512 or (type(v) is str and SURROGATE.search(v)): return False
        if type(v) is dict: stack += [(k, depth) for k in v] + [(x, depth + 1) for x in v.values()]
        elif type(v) is list: stack += [(x, depth + 1) for x in v]
    return True

def strict_slow(raw):  # 1e999 (orjson refuses it), huge integers (orjson rounds them), deep nesting
    try: o = json.loads(raw.decode("utf-8"), parse_constant=_reject, parse_int=_int)
    except (ValueError, RecursionError): return None
    return o if type(o) is dict and _sound(o) else None

def strict(raw):
    if len(raw) > MAX_LINE: return None
    try: o = orjson.loads(raw)  # RFC 8259: no NaN, trailing commas, bad UTF-8 or lone surrogates; last key wins
    except orjson.JSONDecodeError: return strict_slow(raw)
    if len(raw) >= 1024 and raw.count(b"[") + raw.count(b"{") >= 512: return strict_slow(raw)
    return o if type(o) is dict else None

def text(x): return x if type(x) is str else None
def count(x): return x if type(x) is int and 0 <= x <= I64 else None  # bools, floats, negatives, >64 bits: no

BAD_J, BAD_V = (None,) * 4 + (True,), (None,) * 8 + (True,)
def judgment(raw):
    o = strict(raw)
    if o is None: return BAD_J
    lab = o.get("label")
    if type(lab) is float: lab = (strict_slow(raw) or {}).get("label")  # 2.5 (missing) or 1e30 written as digits
    lab = (lab if -I64 <= lab <= I64 else 4) if type(lab) is int else None  # a huge integer is out of range
    return text(o.get("query")), text(o.get("video_url")), lab, text(o.get("judged_at")), False

def video(raw):
    o = strict(raw)
    if o is None: return BAD_V
    obs = o.get("observed_at")
    return (text(o.get("url")), text(o.get("title")), text(o.get("description")), text(o.get("channel")),
            count(o.get("duration_s")), count(o.get("views")), text(o.get("published")),
            obs if obs is None or type(obs) is str else "", False)  # "" fails the timestamp check

def read_part(path, part, parts):
    """The lines of one of `parts` slices of a file, cut at line starts (the first slice without the BOM)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        def start(k):
            if k == 0 or k == parts: return 0 if k == 0 else size
            f.seek(max(1, size * k // parts) - 1); f.readline(); return f.tell()
        a, b = start(part), start(part + 1)
        f.seek(a); data = f.read(b - a)
    if part == 0 and data.startswith(b"\xef\xbb\xbf"): data = data[3:]
    lines = data.split(b"\n")
    if lines[-1] == b"": lines.pop()  # a closing \n does not open a line
    return lines

def columns(kind, part):  # the columns of one slice of INPUT/kind.jsonl, as Python lists
    return list(zip(*map(judgment if kind == "judgments" else video, read_part(PATHS[kind], part, PARTS))))

def to_frame(kind, cols):
    import polars as pl  # a worker imports polars after the fork, for itself
    S, I = pl.String, pl.Int64
    schema = ({"url": S, "title": S, "description": S, "channel": S, "duration_s": I, "views": I, "published": S,
               "observed_at": S, "bad": pl.Boolean} if kind == "videos" else
              {"query": S, "video_url": S, "label": I, "judged_at": S, "bad": pl.Boolean})
    return pl.DataFrame(dict(zip(schema, cols)) if cols else None, schema=schema)

def part_frames(part):  # a worker's slice of both files, handed back as Arrow IPC files (in memory, /dev/shm)
    paths = {kind: os.path.join(SHM, f"{kind}.{part}.arrow") for kind in PATHS}
    for kind in PATHS: to_frame(kind, columns(kind, part)).write_ipc(paths[kind])
    return paths

# The JSON pass holds the GIL, so it runs in --threads processes, each on a slice of the lines: workers forked here,
# before polars starts its threads, and this process, which takes the first slice and concatenates in line order.
T0 = time.time()
gc.disable()  # millions of small objects from the JSON pass, and no cycles to collect
PATHS = {k: os.path.join(ARGS.input, k + ".jsonl") for k in ("videos", "judgments")}
PARTS = max(1, ARGS.threads)
SHM = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
atexit.register(shutil.rmtree, SHM, True)
POOL = multiprocessing.get_context("fork").Pool(PARTS - 1) if PARTS > 1 else None
JOBS = [POOL.apply_async(part_frames, (p,)) for p in range(1, PARTS)] if POOL else []
OWN = {k: columns(k, 0) for k in PATHS}
import numpy as np, polars as pl  # noqa: E402  (polars reads POLARS_MAX_THREADS when imported)

def frame(kind):
    df = pl.concat([to_frame(kind, OWN.pop(kind))] + [pl.read_ipc(job.get()[kind]) for job in JOBS])
    if df.height == 0: print(f"{PATHS[kind]} is empty", file=sys.stderr); sys.exit(2)
    return df.with_row_index("line")

# ---- polars expressions for the contract's rules ----
TS = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z$"
WS = r"[\x09-\x0D\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+"
# One pass per URL: ASCII blanks, scheme, host, then `/watch` with the first parameter named v, or `/ID`; trailing
# slashes, other parameters and the fragment dropped. A skipped parameter cannot be named v (`v`, `v=…`).
SP, ID = r"[ \t\n\r\x0B\x0C]*", r"([A-Za-z0-9_-]{11})"
URL = (r"^" + SP + r"[hH][tT][tT][pP][sS]?://(?:[wW][wW][wW]\.|[mM]\.)?[vV][iI][dD]\.[eE][xX][aA][mM][pP][lL][eE]"
       r"(?:/watch/*\?(?:(?:[^v&#][^&#]*|v[^=&#][^&#]*)?&)*v=" + ID + r"(?:[&#][\s\S]*)?"
       r"|/" + ID + r"/*(?:[?#][\s\S]*)?)" + SP + r"$")

def seconds(c):  # whole seconds since 1970 of a valid timestamp, else null (Hinnant's days_from_civil)
    s = pl.col(c)
    y, mo, d, h, mi, se = (s.str.slice(a, n).cast(pl.Int64, strict=False) for a, n in
                           [(0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2)])
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = pl.when(mo == 2).then(28 + leap.cast(pl.Int64)).when(mo.is_in([4, 6, 9, 11])).then(30).otherwise(31)
    ok = s.str.contains(TS) & (y >= 1) & mo.is_between(1, 12) & d.is_between(1, dim) & (h <= 23) & (mi <= 59) & (se <= 59)
    yy = y - (mo <= 2).cast(pl.Int64)
    era = yy // 400
    yoe = yy - era * 400
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + (153 * ((mo + 9) % 12) + 2) // 5 + d - 1 - 719468
    return pl.when(ok).then(days * 86400 + h * 3600 + mi * 60 + se)  # (lazy: polars computes the parts once)

def fraction(c):  # the first 18 digits of the fraction, for ordering re-judgments
    return pl.col(c).str.slice(20).str.strip_chars_end("Z").str.slice(0, 18).str.pad_end(18, "0").cast(pl.Int64, strict=False)

def normalize(e): return e.str.normalize("NFKC").str.to_lowercase().str.replace_all(WS, " ").str.strip_chars(" ")
def tokens(e): return e.str.normalize("NFKC").str.to_lowercase().str.extract_all(r"[\p{L}\p{N}]+")

def canonical(e):
    g = e.str.extract_groups(URL)
    return pl.lit("https://www.vid.example/watch?v=") + pl.coalesce(g.struct.field("1"), g.struct.field("2"))

def differs(cols, n): return pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(n)) for c in cols])
def timestamp(c): return pl.from_epoch(c, time_unit="s").dt.replace_time_zone("UTC")
def counts(df, reasons): return {r: int(df.filter(pl.col("reason") == r).height) for r in reasons}

def fnv_extend(h, toks):
    """FNV-1a states h (R,) continued over the UTF-8 of each token: (R, len(toks)), vectorised over byte positions."""
    enc = [t.encode() for t in toks]
    lens = np.array([len(b) for b in enc], dtype=np.int64)
    order = np.argsort(-lens, kind="stable")
    data = np.frombuffer(b"".join(enc[i] for i in order), dtype=np.uint8)
    ln = lens[order]
    off = np.cumsum(ln) - ln
    H = np.repeat(h.astype(np.uint32)[:, None], len(enc), axis=1)
    for k in range(int(ln[0]) if len(ln) else 0):
        n = int(np.count_nonzero(ln > k))
        H[:, :n] = (H[:, :n] ^ data[off[:n] + k]) * np.uint32(16777619)
    out = np.empty_like(H); out[:, order] = H
    return out

def main():
    os.makedirs(ARGS.out, exist_ok=True)
    ingested = pl.DataFrame({"t": [ARGS.ingested_at]}).lazy().select(seconds("t")).collect().item()
    if ingested is None: sys.exit(f"--ingested-at {ARGS.ingested_at!r} is not a timestamp")
    c = pl.col
    v, j = frame("videos"), frame("judgments")

    # ---- videos: checks, then every version of each video (SilverBuilder.history) ----
    ATTRS = ["title", "description", "channel", "duration_s", "views", "pub"]
    v = (v.lazy().with_columns(pub=seconds("published"), obs=seconds("observed_at"), video_url=canonical(c("url")))
         .with_columns(reason=pl.when("bad").then(pl.lit("bad_json"))
                       .when(pl.any_horizontal(c("url", *ATTRS).is_null()) | (c("observed_at").is_not_null() & c("obs").is_null()))
                       .then(pl.lit("missing_field"))
                       .when(c("video_url").is_null()).then(pl.lit("bad_url"))).collect())
    h = (v.lazy().filter(c("reason").is_null())
         .select("line", "video_url", *ATTRS, obs=c("obs").fill_null(ingested))
         .sort("video_url", "obs", "line")
         .filter(differs(["video_url", "obs"], -1))  # a later line observed at the same time replaces the earlier
         .filter(differs(["video_url", *ATTRS], 1))  # an unchanged observation is kept once, the earliest
         .with_columns(first=differs(["video_url"], 1), latest=differs(["video_url"], -1))
         .with_columns(vid=c("first").cum_sum().cast(pl.Int64) - 1, valid_from=pl.when(~c("first")).then("obs"),
                       valid_to=pl.when(~c("latest")).then(c("obs").shift(-1)))
         .with_row_index("ver").collect())
    nvid = int(h["latest"].sum())
    vq = counts(v, ["bad_json", "missing_field", "bad_url"])
    vreport = {"lines_total": v.height, "quarantined": vq, "valid": v.height - sum(vq.values()),
               "duplicates_dropped": v.height - sum(vq.values()) - nvid, "silver_videos": nvid}

    # ---- judgments: checks (queries normalised once per distinct raw form), latest per (query, video) ----
    jl = j.lazy()
    qmap = jl.select(c("query").unique()).with_columns(nq=normalize(c("query")))
    latest = h.filter("latest")
    j = (jl.join(qmap, on="query", how="left")
         .with_columns(vid=canonical(c("video_url")).replace_strict(latest["video_url"], latest["vid"], default=None),
                       secs=seconds("judged_at"), frac=fraction("judged_at"))
         .with_columns(reason=pl.when("bad").then(pl.lit("bad_json"))
                       .when(pl.any_horizontal(c("query", "video_url", "label", "secs").is_null()) | (c("nq") == ""))
                       .then(pl.lit("missing_field"))
                       .when(~c("label").is_between(0, 3)).then(pl.lit("label_out_of_range"))
                       .when(c("vid").is_null()).then(pl.lit("unknown_video"))).collect())
    ok = j.lazy().filter(c("reason").is_null())
    queries = ok.select(c("nq").unique().sort()).with_row_index("qid").collect()  # code-point order
    s = (ok.join(queries.lazy(), on="nq").sort("qid", "vid", "secs", "frac", "line")
         .filter(differs(["qid", "vid"], -1))  # the latest judged_at (with its fraction), then the later line
         .select("qid", "vid", "label", "secs").with_row_index("row").collect())
    jq = counts(j, ["bad_json", "missing_field", "label_out_of_range", "unknown_video"])
    jreport = {"lines_total": j.height, "quarantined": jq, "valid": j.height - sum(jq.values()),
               "duplicates_dropped": j.height - sum(jq.values()) - s.height, "silver_judgments": s.height}
    with open(os.path.join(ARGS.out, "report.json"), "w") as f:
        json.dump({"judgments": jreport, "videos": vreport}, f, sort_keys=True)
    if s.height == 0:
        print("no judgment passed the checks; nothing to register", file=sys.stderr); sys.exit(1)

    # ---- gold: each judgment's video as of judged_at (the latest version observed at or before it, else the first)
    g = (s.lazy().sort("secs").join_asof(h.lazy().select("vid", "obs", "ver").sort("obs"), left_on="secs",
                                         right_on="obs", by="vid", strategy="backward", check_sortedness=False)
         .join(h.lazy().filter("first").select("vid", ver0="ver"), on="vid")
         .select("row", "qid", "label", "secs", ver=pl.coalesce("ver", "ver0")).sort("row").collect())
    # tokens once per distinct text (a video's text rarely changes between versions)
    def tokenized(col, name):
        return h.lazy().select(col).unique().with_columns(tokens(c(col)).alias(name))
    vt = (h.lazy().select("ver", "latest", "title", "description", "channel")
          .join(tokenized("title", "tt"), on="title").join(tokenized("description", "dt"), on="description")
          .join(tokenized("channel", "ct"), on="channel").sort("ver")
          .select("ver", "latest", "tt", "dt", "ct", title_s=pl.lit(" ") + c("tt").list.join(" ") + " ").collect())
    qt = queries.lazy().select("qid", q="nq", qt=tokens(c("nq"))).collect()
    vocab = pl.concat([vt["tt"].explode(), vt["dt"].explode(), vt["ct"].explode(), qt["qt"].explode()]).drop_nulls().unique()
    nvoc, enum = len(vocab), pl.Enum(vocab)
    def ids(col): return c(col).cast(pl.List(enum)).list.eval(pl.element().to_physical().cast(pl.Int64))
    vt = vt.with_columns(ids("tt"), ids("dt"), ids("ct"), tl=c("tt").list.len(), dl=c("dt").list.len())
    qt = qt.with_columns(ql=c("qt").list.n_unique(), q_s=pl.lit(" ") + c("qt").list.join(" ") + " ",
                         qd=ids("qt").list.unique(maintain_order=True))
    # BM25 statistics over the latest version of every video (docs/features.md, "Frozen statistics")
    lat = vt.filter("latest")
    def idf(col):
        df = lat.select(c(col).list.unique().explode().drop_nulls()).group_by(col).len()
        dfa = np.zeros(nvoc); dfa[df[col].to_numpy()] = df["len"].to_numpy()
        return pl.Series(np.log(1 + (nvid - dfa + 0.5) / (dfa + 0.5)))
    def norm(col):  # k1 · (1 − b + b · |doc| / avgdl), per version
        return pl.Series(1.2 * (0.25 + 0.75 * vt[col].to_numpy() / (lat[col].sum() / nvid)))
    idf_t, idf_d, norm_t, norm_d = idf("tt"), idf("dt"), norm("tl"), norm("dl")
    tf = (pl.concat([vt.lazy().select("ver", w=col, f=pl.lit(i)) for i, col in enumerate(["tt", "dt", "ct"])])
          .explode("w").drop_nulls("w").group_by(k=c("ver") * nvoc + c("w"))
          .agg(tf_t=(c("f") == 0).sum(), tf_d=(c("f") == 1).sum(), in_c=(c("f") == 2).any()))
    # one row per (gold row, distinct query token)
    e = g.lazy().select("row", "qid", "ver").join(qt.lazy().select("qid", w="qd").explode("w").drop_nulls("w"), on="qid")
    e = e.sort("row").collect()
    bm25 = lambda idf_, norm_, t: pl.lit(idf_).gather(c("w")) * c(t) * 2.2 / (c(t) + pl.lit(norm_).gather(c("ver")))
    lex = (e.lazy().with_columns(k=c("ver") * nvoc + c("w")).join(tf, on="k", how="left")
           .with_columns(c("tf_t", "tf_d").fill_null(0))
           .with_columns(bt=bm25(idf_t, norm_t, "tf_t"), bd=bm25(idf_d, norm_d, "tf_d"))
           .group_by("row").agg(f0=c("bt").sum(), f1=c("bd").sum(), f2=(c("tf_t") > 0).sum(), f3=(c("tf_d") > 0).sum(),
                                f4=c("in_c").fill_null(False).sum()))
    # hashed crosses: h[fnv1a32(q + " " + t) % 32] += 1 over distinct query tokens × distinct title tokens
    qv = np.unique(e["w"].to_numpy())
    tdist = vt["tt"].list.unique()
    tv = np.unique(tdist.explode().drop_nulls().to_numpy())
    qpos, tpos = np.zeros(nvoc, np.int64), np.zeros(nvoc, np.int64)
    qpos[qv], tpos[tv] = np.arange(len(qv)), np.arange(len(tv))
    words = vocab.to_list()
    state = fnv_extend(np.array([2166136261]), [words[i] + " " for i in qv])[0]
    lut = (fnv_extend(state, [words[i] for i in tv]) % 32).astype(np.int64).ravel()
    tlen = tdist.list.len().to_numpy().astype(np.int64)
    tstart, tflat = np.cumsum(tlen) - tlen, tpos[tdist.explode().drop_nulls().to_numpy()]
    rows, vers, lrow = e["row"].to_numpy(), e["ver"].to_numpy(), qpos[e["w"].to_numpy()] * len(tv)
    hist, step = np.zeros((32, g.height), np.float32), 1 << 19
    for a in range(0, len(rows), step):  # chunks of (row, query token) rows, each crossed with its title's tokens
        r, ver, lr = rows[a:a + step], vers[a:a + step], lrow[a:a + step]
        ln, r0, r1 = tlen[ver], int(r[0]), int(r[-1]) + 1
        pos = np.repeat(tstart[ver] - (np.cumsum(ln) - ln), ln) + np.arange(ln.sum())
        key = np.repeat(r - r0, ln) + (r1 - r0) * lut[np.repeat(lr, ln) + tflat[pos]]
        hist[:, r0:r1] += np.bincount(key, minlength=(r1 - r0) * 32).reshape(32, r1 - r0)

    age = (c("secs") - c("pub")) / 86400
    ql, ot, od = c("ql"), c("f2"), c("f3")
    dur = sum((c("duration_s") >= b).cast(pl.Int64) for b in [60, 240, 600, 1200, 3600])
    feats = [c("f0"), c("f1"), ot, od, c("f4"), ql, c("tl"), c("dl"),
             pl.when(ql > 0).then(ot / ql).otherwise(0), pl.when(ql > 0).then(od / ql).otherwise(0),
             ((ql > 0) & (ot == ql)).cast(pl.Int64), c("title_s").str.contains(c("q_s"), literal=True).cast(pl.Int64),
             c("views").log1p(), age, pl.max_horizontal(age, 0).log1p(), (c("views") / pl.max_horizontal(age, 1)).log1p(),
             c("duration_s").log1p(), *[(dur == i).cast(pl.Int64) for i in range(6)], c("q").str.len_chars()]
    vf = h.lazy().select("ver", "video_url", "duration_s", "views", "pub").join(vt.lazy().select("ver", "tl", "dl", "title_s"), on="ver")
    keep = dict(how="left", maintain_order="left")  # g is in silver's order
    gold = (g.lazy().join(qt.lazy().select("qid", "q", "ql", "q_s"), on="qid", **keep).join(vf, on="ver", **keep)
            .join(lex.collect(engine="streaming").lazy(), on="row", **keep).with_columns(c("f0", "f1", "f2", "f3", "f4").fill_null(0))
            .select(c("q").alias("query"), "video_url", c("label").cast(pl.Int8), timestamp(c("secs")).alias("judged_at"),
                    *[f.cast(pl.Float64).cast(pl.Float32).alias(f"f{i}") for i, f in enumerate(feats)])
            .collect().hstack([pl.Series(f"f{24 + i}", hist[i]) for i in range(32)]))

    # ---- write silver and gold ----
    out = lambda name: os.path.join(ARGS.out, name)
    vcols = ["title", "description", "channel", "duration_s", "views"]
    sv = h.filter("latest").select("video_url", *vcols, published=timestamp(c("pub")))
    hv = h.select("video_url", timestamp(c("valid_from")), timestamp(c("valid_to")), timestamp(c("obs")).alias("observed_at"),
                  *vcols, timestamp(c("pub")).alias("published"))
    sj = (s.join(queries, on="qid").join(h.filter("latest").select("vid", "video_url"), on="vid").sort("row")
          .select(query="nq", video_url="video_url", label=c("label").cast(pl.Int8), judged_at=timestamp(c("secs"))))
    for name, df in [("silver_videos", sv), ("silver_video_history", hv), ("silver_judgments", sj), ("gold", gold)]:
        df.write_parquet(out(name + ".parquet"), compression="lz4")
    seconds_taken = time.time() - T0

    if ARGS.jsonl:
        text_ts = lambda df: df.with_columns(c(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for name, df in [("silver_videos", sv), ("silver_video_history", hv), ("silver_judgments", sj)]:
            text_ts(df).write_ndjson(out(name + ".jsonl"))
        gold.select("query", "video_url", "label", features=pl.concat_list([f"f{i}" for i in range(56)])).write_ndjson(out("gold.jsonl"))
    if POOL: POOL.close(); POOL.join()
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"engine": "polars", "version": pl.__version__, "threads": ARGS.threads, "seconds": round(seconds_taken, 3),
                      "judgment_lines": j.height, "video_lines": v.height, "gold_rows": gold.height,
                      "peak_rss_mib": round((me.ru_maxrss + kids.ru_maxrss) / 1024, 1),  # + the JSON worker's
                      "cpu_seconds": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 3)}))

if __name__ == "__main__":
    main()
