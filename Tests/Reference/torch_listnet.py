#!/usr/bin/env python3
"""The trainer's model and loss in PyTorch, for comparison on Tandem's own gold table (a test helper only).

    tandem etl --env dev --input DIR --export-gold /tmp/gold.jsonl     (in a scratch project)
    pip install torch numpy
    python3 Tests/Reference/torch_listnet.py /tmp/gold.jsonl [LEARNING_RATE] [EPOCHS]

MLP 56→256→128→1 (ReLU), inputs standardised with the training rows' mean and standard deviation, ListNet
top-1 loss with target (2^label − 1)/Σ per query (queries without a relevant item skipped), Adam, batches of
64 whole queries, one thread. It reports NDCG@10 on the test (held-out) queries, fnv1a32 % 5 == 0, as in
docs/data-contract.md ("Train/validation/test split", "Ranking metrics"), and trains on every other query.
"""
import json, sys, numpy as np, torch
torch.set_num_threads(1); torch.manual_seed(7)
def fnv(s):
    h=0x811c9dc5
    for b in s.encode(): h=((h^b)*0x01000193)&0xffffffff
    return h
rows=[json.loads(l) for l in open(sys.argv[1])]
X=np.array([r["features"] for r in rows],dtype=np.float32); y=np.array([r["label"] for r in rows],dtype=np.float32); q=[r["query"] for r in rows]
held=np.array([fnv(s)%5==0 for s in q])
def groups(idx):
    out=[];prev=None
    for i in idx:
        if q[i]!=prev: out.append([]); prev=q[i]
        out[-1].append(i)
    return out
tr=groups(np.where(~held)[0]); te=groups(np.where(held)[0])
mu=X[~held].mean(0); sd=X[~held].std(0); sd[sd==0]=1
Xs=torch.tensor((X-mu)/sd); Y=torch.tensor(y)
model=torch.nn.Sequential(torch.nn.Linear(56,256),torch.nn.ReLU(),torch.nn.Linear(256,128),torch.nn.ReLU(),torch.nn.Linear(128,1))
lr=float(sys.argv[2]) if len(sys.argv)>2 else 1e-3
opt=torch.optim.Adam(model.parameters(),lr=lr)
def ndcg(labels,scores):
    o=np.argsort(-scores,kind="stable")[:10]; g=2.0**labels-1
    dcg=sum(g[o[i]]/np.log2(i+2) for i in range(len(o))); ideal=np.sort(g)[::-1][:10]; idcg=sum(ideal[i]/np.log2(i+2) for i in range(len(ideal)))
    return dcg/idcg if idcg>0 else None
rng=np.random.default_rng(7)
for epoch in range(int(sys.argv[3]) if len(sys.argv)>3 else 5):
    order=rng.permutation(len(tr))
    for b in range(0,len(order),64):
        gs=[tr[i] for i in order[b:b+64]]
        loss=0; n=0
        idx=np.concatenate(gs); s=model(Xs[idx]).squeeze(1); off=0
        for g in gs:
            k=len(g); sc=s[off:off+k]; lab=Y[g]; off+=k
            gain=2**lab-1; tot=gain.sum()
            if tot<=0: continue
            loss=loss-(gain/tot*torch.log_softmax(sc,0)).sum(); n+=1
        if n: opt.zero_grad(); (loss/n).backward(); opt.step()
    with torch.no_grad():
        vals=[]
        for g in te:
            v=ndcg(y[g],model(Xs[g]).squeeze(1).numpy())
            if v is not None: vals.append(v)
    print("epoch",epoch+1,"held-out NDCG@10 %.4f"%np.mean(vals),flush=True)
