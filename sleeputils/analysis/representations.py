"""What a layer's activity looks like: class correlations, sparseness, which units prefer which
classes, the drive to old and new outputs, and a linear probe (book/methods/analyses.md).

Every function takes activations ``H`` (images x units, test mode) and the images' labels; none
trains the network.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def _pattern_correlations(H: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation (across units) of every pair of images' activity patterns, and the
    images' labels; images with no active unit have no pattern and are left out."""
    H = np.asarray(H, dtype=np.float64)
    keep = H.std(axis=1) > 0
    H, y = H[keep], np.asarray(y)[keep]
    Z = (H - H.mean(axis=1, keepdims=True)) / H.std(axis=1, keepdims=True)
    return Z @ Z.T / H.shape[1], y


def class_correlations(H: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean Pearson correlation (across units) between the activity patterns of two different
    images of the same class, and of two images of different classes (eq-class-correlation).
    Images with no active unit have no pattern and are left out."""
    C, y = _pattern_correlations(H, y)
    same = y[:, None] == y[None, :]
    off = ~np.eye(len(y), dtype=bool)
    return float(C[same & off].mean()), float(C[~same].mean())


def class_correlation_matrix(H: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Entry (a, b): the mean correlation between the patterns of an image of class a and a
    different image of class b (eq-class-correlation, class by class; NaN for a class without an
    active image). Its diagonal holds the within-class, the rest the between-class terms."""
    C, y = _pattern_correlations(H, y)
    off = ~np.eye(len(y), dtype=bool)
    M = np.full((n_classes, n_classes), np.nan)
    for a in range(n_classes):
        for b in range(n_classes):
            block = off & (y[:, None] == a) & (y[None, :] == b)
            if block.any():
                M[a, b] = C[block].mean()
    return M


def sparseness(H: np.ndarray) -> tuple[float, float]:
    """Fraction of units active (> 0) and the Treves-Rolls population sparseness
    a = (mean r)^2 / mean(r^2), each averaged over images (eq-treves-rolls; a is small when few
    units carry the activity). Silent images count as fully sparse (a = 0)."""
    H = np.asarray(H, dtype=np.float64)
    active = (H > 0).mean(axis=1)
    m2 = (H * H).mean(axis=1)
    a = np.divide(H.mean(axis=1) ** 2, m2, out=np.zeros_like(m2), where=m2 > 0)
    return float(active.mean()), float(a.mean())


def class_means(H: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean response of every unit to every class (classes x units; 0 for an absent class)."""
    H = np.asarray(H, dtype=np.float64)
    return np.stack([H[y == c].mean(axis=0) if (y == c).any() else np.zeros(H.shape[1])
                     for c in range(n_classes)])


def preferred_classes(H: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Each unit's preferred class (argmax of its mean response per class); -1 for a unit that
    never responds."""
    means = class_means(H, y, n_classes)
    pref = means.argmax(axis=0)
    pref[means.max(axis=0) <= 0] = -1
    return pref


def selectivity(H: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    """Mean class selectivity of the responsive units, (r_max - r_rest) / (r_max + r_rest) with
    r_max the mean response to the preferred class and r_rest the mean over the other classes
    (eq-selectivity): 1 for a unit that answers one class only, 0 for one that answers all
    alike."""
    means = class_means(H, y, n_classes)
    top = means.max(axis=0)
    rest = (means.sum(axis=0) - top) / (n_classes - 1)
    ok = top > 0
    if not ok.any():
        return float("nan")
    return float(((top[ok] - rest[ok]) / (top[ok] + rest[ok])).mean())


def share_preferring(pref: np.ndarray, classes: list[int]) -> float:
    """Fraction of the responsive units whose preferred class is in ``classes``."""
    responsive = pref >= 0
    if not responsive.any():
        return float("nan")
    return float(np.isin(pref[responsive], classes).mean())


def drive(Z: np.ndarray, units: list[int]) -> float:
    """Mean summed input (pre-activation) to ``units`` over the images (eq-drive)."""
    return float(np.asarray(Z, dtype=np.float64)[:, units].mean())


def probe_accuracy(H_train: np.ndarray, y_train: np.ndarray, H_test: np.ndarray,
                   y_test: np.ndarray, seed: int = 0) -> float:
    """Test accuracy (%) of a multinomial logistic regression trained on the layer's activity
    (standardised) of ``H_train``: how much class information the layer holds, readable by a
    linear map, whatever the network's own output does with it."""
    scaler = StandardScaler().fit(H_train)
    clf = LogisticRegression(max_iter=300, random_state=seed)
    clf.fit(scaler.transform(H_train), y_train)
    return 100.0 * float(clf.score(scaler.transform(H_test), y_test))
