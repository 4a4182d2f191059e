#!/usr/bin/env python3
"""scikit-learn on the rows `tabular --save-split DIR` trained and tested on.

    tabular --csv FILE --label COLUMN --save-split DIR
    python3 examples/tabular_sklearn.py DIR [--task classification|regression]

Reads DIR/train.csv and DIR/test.csv (features already standardised on the
training part, the label last) and prints the test figures of a linear model
(logistic regression or least squares) and of scikit-learn's MLP with the
example's defaults: one hidden ReLU layer of 32, Adam at 0.003, batch 32,
100 epochs. Needs python3-sklearn (Debian) and NumPy.
"""
import argparse
import sys
import warnings

import numpy as np


def read(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, :-1], data[:, -1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--task", choices=["classification", "regression"], default="classification",
                    help="binary counts as classification")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    try:
        from sklearn.linear_model import LinearRegression, LogisticRegression
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    except ImportError:
        sys.exit("tabular_sklearn.py: scikit-learn is missing (apt-get install python3-sklearn)")
    # The MLP stops at max_iter epochs by design, as the example does: not a warning.
    warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")
    X, y = read(a.dir + "/train.csv")
    Xt, yt = read(a.dir + "/test.csv")
    mlp = dict(hidden_layer_sizes=(a.hidden,), solver="adam", learning_rate_init=0.003, batch_size=32,
               max_iter=a.epochs, n_iter_no_change=a.epochs, random_state=a.seed)
    if a.task == "classification":
        linear = LogisticRegression(max_iter=10000).fit(X, y.astype(int))
        net = MLPClassifier(**mlp).fit(X, y.astype(int))
        print(f"logistic regression: test accuracy {100 * linear.score(Xt, yt.astype(int)):.2f} %")
        print(f"MLPClassifier({a.hidden}): test accuracy {100 * net.score(Xt, yt.astype(int)):.2f} %")
    else:
        linear = LinearRegression().fit(X, y)
        net = MLPRegressor(**mlp).fit(X, y)
        print(f"least squares: test R^2 {linear.score(Xt, yt):.4f}")
        print(f"MLPRegressor({a.hidden}): test R^2 {net.score(Xt, yt):.4f}")


if __name__ == "__main__":
    main()
