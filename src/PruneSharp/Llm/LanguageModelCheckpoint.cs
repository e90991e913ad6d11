using PruneSharp.Llm.Checkpoints;
using PruneSharp.Llm.Models;
using PruneSharp.Llm.Tokenizers;

namespace PruneSharp.Llm;

/// <summary>
/// A Hugging Face checkpoint folder opened for work: its weights (memory-mapped, read a layer at a time), the model its
/// <c>config.json</c> describes, and its own tokenizer. What the <c>llm</c> verbs start from.
/// </summary>
public sealed class LanguageModelCheckpoint : IDisposable
{
    LanguageModelCheckpoint(HfCheckpoint checkpoint, DecoderModel model)
    {
        Checkpoint = checkpoint;
        Model = model;
    }

    /// <summary>Opens <paramref name="folder"/>: config.json, the safetensors weights (single or sharded).</summary>
    /// <exception cref="CheckpointFormatException">A file is missing or damaged.</exception>
    /// <exception cref="DecoderModelException">The config describes a model this reader does not implement, or a tensor is missing.</exception>
    public static LanguageModelCheckpoint Open(string folder)
    {
        var checkpoint = HfCheckpoint.Open(folder);
        try
        {
            var config = DecoderConfig.Parse(checkpoint.Config, Path.Combine(checkpoint.Folder, HfCheckpoint.ConfigFile));
            return new LanguageModelCheckpoint(checkpoint, DecoderModel.Create(config, checkpoint));
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>The files.</summary>
    public HfCheckpoint Checkpoint { get; }

    /// <summary>The model, reading its layers from <see cref="Checkpoint"/>.</summary>
    public DecoderModel Model { get; }

    /// <summary>
    /// The checkpoint's own tokenizer: <c>tokenizer.json</c> where the folder has one, else the SentencePiece model
    /// <c>tokenizer.model</c> (checkpoints converted before tokenizer.json was common).
    /// </summary>
    /// <exception cref="Data.DataNotFoundException">The folder has neither file.</exception>
    public Data.TextTokenizer Tokenizer()
    {
        string json = Path.Combine(Checkpoint.Folder, "tokenizer.json"), model = Path.Combine(Checkpoint.Folder, "tokenizer.model");
        if (File.Exists(json)) return HfTokenizer.Load(json);
        if (File.Exists(model)) return Data.TextTokenizer.FromSentencePieceModel(model);
        throw new Data.DataNotFoundException(json, "the checkpoint has no tokenizer (neither tokenizer.json nor tokenizer.model)");
    }

    /// <summary>A text file tokenised as one string with the checkpoint's tokenizer (no special tokens).</summary>
    /// <exception cref="Data.DataNotFoundException">The text file does not exist.</exception>
    public int[] Tokenize(string textFile)
    {
        if (!File.Exists(textFile)) throw new Data.DataNotFoundException(textFile, "text file does not exist");
        return Tokenizer().Encode(File.ReadAllText(textFile));
    }

    /// <summary>A window length clipped to the model's positions.</summary>
    public int ClipLength(int length) => (int)Math.Min(length, Model.Config.MaxPositions);

    /// <inheritdoc/>
    public void Dispose()
    {
        Model.Dispose();
        Checkpoint.Dispose();
    }
}
