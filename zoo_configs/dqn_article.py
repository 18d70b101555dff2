"""RL Zoo hyperparams: the `article` preset of sb3-mario for every sb3-mario env id."""

from sb3_mario.zoo import zoo_hyperparams

hyperparams = zoo_hyperparams("article")
