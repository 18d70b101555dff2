"""Hyperparameter tuning with Optuna: search space, objective and studies."""

from sb3_mario.tuning.space import convert_params, sample_params

__all__ = ["convert_params", "sample_params"]
