namespace PruneSharp.Recipes;

/// <summary>The keys a recipe may hold, per section (docs/recipes.md describes each).</summary>
static class RecipeSchema
{
    public static readonly string[] Top = { "model", "seed", "data", "inputs", "stages", "recovery", "evaluate", "export", "lottery" };

    public static readonly string[] Lottery = { "rounds", "rate", "rewind", "retrain", "variants", "scope", "folder" };

    public static readonly string[] Inputs = { "shape", "tensors", "normalize" };

    public static readonly string[] Data = { "source", "train_examples", "test_examples", "normalize", "resize", "crop", "augment" };

    public static readonly string[] Stage =
    {
        "method", "sparsity", "granularity", "scope", "schedule", "exclude", "first_last", "prune_embeddings", "strict",
        "structure", "ratio", "round_to", "max_ratio", "global", "ignore",
        "approximate", "ffn_ratio", "hidden_ratio", "steps", "calibration", "aggregate", "include_readers", "blocks",
    };

    public static readonly string[] Recovery =
    {
        "kind", "epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "lr_schedule",
        "distill_loss", "temperature", "distill_features", "freeze", "train_only", "threads",
    };

    public static readonly string[] Evaluate = { "accuracy", "latency", "threads", "rounds" };

    public static readonly string[] Export = { "path", "embed_preprocessing", "keep_opset" };
}
