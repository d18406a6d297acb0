"""Projection: find the w / w+ latent and noise maps with which a StyleGAN2 draws a given image.

``project(model, targets, ProjectionConfig(...)) -> Projection``; ``read_target`` reads the
images; ``render`` draws a projection; :mod:`netbend.projection.run` projects files to a folder.
"""
from netbend.projection.config import DEFAULT_LOSS, ProjectionConfig, parse_loss
from netbend.projection.images import TargetImage, read_target, to_tensor
from netbend.projection.optimise import Projection, StepReport, check_projectable, project, render

__all__ = ["DEFAULT_LOSS", "Projection", "ProjectionConfig", "StepReport", "TargetImage", "check_projectable",
           "parse_loss", "project", "read_target", "render", "to_tensor"]
