"""Times the scikit-learn reference NB-SVM (../shared/reference/sklearn_baselines.py) on all
of IMDB: tokenization + features + fit on 25,000 reviews + prediction of 25,000, reading the
data first (not timed). Prints one JSON object.

usage: python3 scripts/sklearn_nbsvm_time.py ../shared/data/aclImdb_v1.tar.gz [repeats]
"""
import json, re, sys, tarfile, time
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.svm import LinearSVC

def load(path):
    data = {"train": ([], []), "test": ([], [])}
    with tarfile.open(path, "r:gz") as tar:
        for m in tar:
            parts = m.name.split("/")
            if len(parts) == 4 and parts[1] in data and parts[2] in ("pos", "neg") and m.isfile():
                X, y = data[parts[1]]
                X.append(tar.extractfile(m).read().decode("utf-8")); y.append(1 if parts[2] == "pos" else 0)
    return [(X, np.array(y)) for X, y in (data["train"], data["test"])]

(Xtr, ytr), (Xte, yte) = load(sys.argv[1])
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
TOK = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
def toks(s): return TOK.findall(s.lower().replace("<br />", " "))

def nbsvm():
    vec = CountVectorizer(tokenizer=toks, lowercase=False, ngram_range=(1, 2), binary=True, token_pattern=None)
    A = vec.fit_transform(Xtr)
    p = 1.0 + A[ytr == 1].sum(0); q = 1.0 + A[ytr == 0].sum(0)
    r = np.asarray(np.log((p / p.sum()) / (q / q.sum()))).ravel()
    clf = LinearSVC(C=0.1, max_iter=10000).fit(A.multiply(r).tocsr(), ytr)
    w = clf.coef_.ravel(); b = clf.intercept_[0]
    w2 = 0.75 * np.abs(w).mean() + 0.25 * w
    pred = (vec.transform(Xte).multiply(r).tocsr() @ w2 + b > 0).astype(int)
    return (pred == yte).mean()

times, acc = [], None
for _ in range(repeats):
    t = time.time(); acc = nbsvm(); times.append(time.time() - t)
print(json.dumps({"what": "NB-SVM fit 25,000 + predict 25,000, tokenization included", "implementation": "scikit-learn " + __import__("sklearn").__version__,
                  "seconds": times, "best_seconds": min(times), "accuracy": acc}))
