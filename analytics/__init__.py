"""groundtruth-throughput: analytics for SageMaker Ground Truth private labeling teams."""
