"""Video quality diagnosis (视频质量诊断): is a camera's picture usable, judged against its own normal.

Pure library: JPEG bytes or numpy arrays in, findings out; no network. ``decode_still`` →
``Frame`` → ``analyze`` (with the camera's ``Baseline``) → ``Diagnosis``; ``learn`` updates the
baseline; ``store.BaselineStore`` keeps baselines and stills in a state directory.
"""

from sharpeyes.vqd.analyze import PRIORITY, Diagnosis, VqdSettings, analyze, learn
from sharpeyes.vqd.baseline import Baseline
from sharpeyes.vqd.checks import Finding
from sharpeyes.vqd.decode import StillError, decode_still
from sharpeyes.vqd.frame import Frame

__all__ = ["PRIORITY", "Baseline", "Diagnosis", "Finding", "Frame", "StillError", "VqdSettings", "analyze",
           "decode_still", "learn"]
