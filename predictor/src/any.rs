use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    PooledClassifier, PooledClassifierConfig, PooledRegressor, PooledRegressorConfig, Predictor,
    PredictorError, Targets, Task,
};

/// Any predictor of this crate, chosen at run time (the `transfer` CLI uses it).
#[derive(Module, Debug)]
pub enum AnyPredictor {
    Classifier(PooledClassifier),
    Regressor(PooledRegressor),
}

/// The config of an [`AnyPredictor`], tagged with its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyPredictorConfig {
    Classifier(PooledClassifierConfig),
    Regressor(PooledRegressorConfig),
}

impl From<PooledClassifier> for AnyPredictor {
    fn from(p: PooledClassifier) -> Self {
        Self::Classifier(p)
    }
}

impl From<PooledRegressor> for AnyPredictor {
    fn from(p: PooledRegressor) -> Self {
        Self::Regressor(p)
    }
}

impl Predictor for AnyPredictor {
    type Config = AnyPredictorConfig;

    fn forward(&self, states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        match self {
            Self::Classifier(p) => p.forward(states, mask),
            Self::Regressor(p) => p.forward(states, mask),
        }
    }

    fn loss(&self, output: Tensor<2>, targets: Targets) -> Tensor<1> {
        match self {
            Self::Classifier(p) => p.loss(output, targets),
            Self::Regressor(p) => p.loss(output, targets),
        }
    }

    fn task(&self) -> Task {
        match self {
            Self::Classifier(p) => p.task(),
            Self::Regressor(p) => p.task(),
        }
    }

    fn input_dim(&self) -> usize {
        match self {
            Self::Classifier(p) => p.input_dim(),
            Self::Regressor(p) => p.input_dim(),
        }
    }

    fn config(&self) -> AnyPredictorConfig {
        match self {
            Self::Classifier(p) => AnyPredictorConfig::Classifier(p.config()),
            Self::Regressor(p) => AnyPredictorConfig::Regressor(p.config()),
        }
    }

    fn from_config(config: &AnyPredictorConfig, device: &Device) -> Result<Self, PredictorError> {
        Ok(match config {
            AnyPredictorConfig::Classifier(c) => {
                Self::Classifier(PooledClassifier::from_config(c, device)?)
            }
            AnyPredictorConfig::Regressor(c) => {
                Self::Regressor(PooledRegressor::from_config(c, device)?)
            }
        })
    }
}
