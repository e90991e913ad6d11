namespace PruneSharp.Recipes;

/// <summary>The keys a recipe may hold, per section (docs/recipes.md describes each).</summary>
static class RecipeSchema
{
    public static readonly string[] Top = { "model", "seed", "data", "inputs", "stages", "recovery", "evaluate", "export", "lottery", "training", "llm", "evaluation", "comparison" };

    public static readonly string[] Lottery = { "rounds", "rate", "rewind", "retrain", "variants", "scope", "folder" };

    public static readonly string[] Training = { "at_init", "regularize", "sparse_training", "soft_filter_pruning", "network_surgery", "text", "checkpoint", "resume" };

    public static readonly string[] AtInit = { "method", "sparsity", "batches", "rounds", "scope" };

    public static readonly string[] Regularize = { "kind", "penalty", "warmup", "group" };

    public static readonly string[] SparseTraining = { "method", "sparsity", "update_every", "drop_fraction" };

    public static readonly string[] Surgery = { "sparsity", "gamma", "power", "stop" };

    public static readonly string[] Text = { "context", "layers", "heads", "width", "untied", "held_out", "tokenizer" };

    public static readonly string[] Llm =
    {
        "method", "sparsity", "calibration", "nsamples", "seqlen", "allocation", "owl_lambda", "owl_m", "refine", "blocksize", "percdamp", "batch_size", "replace",
        "remove", "layers",
    };

    /// <summary>The <c>llm</c> keys of every method.</summary>
    public static readonly string[] LlmCommon = { "method", "calibration", "nsamples", "seqlen", "batch_size", "replace" };

    /// <summary>The <c>llm</c> keys of <c>method: shortgpt</c> alone (the layer removal).</summary>
    public static readonly string[] LlmDepth = { "remove", "layers" };

    public static readonly string[] Evaluation = { "text", "seqlen", "batch_size" };

    public static readonly string[] Comparison = { "folder", "report", "dense", "variants", "recompute" };

    /// <summary>The dense model's training: the recovery keys that apply to training, and its own example limit.</summary>
    public static readonly string[] ComparisonDense =
    {
        "epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "lr_schedule", "freeze", "train_only", "threads", "train_examples",
    };

    public static readonly string[] ComparisonVariant = { "name", "label", "stages", "recovery", "at_init" };

    public static readonly string[] Inputs = { "shape", "tensors", "normalize" };

    public static readonly string[] Data = { "source", "train_examples", "test_examples", "normalize", "resize", "crop", "augment", "tokenizer", "context", "held_out" };

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
