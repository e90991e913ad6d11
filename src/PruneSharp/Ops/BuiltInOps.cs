namespace PruneSharp.Ops;

/// <summary>Discovers the built-in op families: every concrete <see cref="OpFamily"/> under this assembly's PruneSharp.Ops namespace.</summary>
static class BuiltInOps
{
    public static IEnumerable<OpFamily> All() =>
        typeof(OpFamily).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(OpFamily)) && !t.IsAbstract && (t.Namespace ?? "").StartsWith("PruneSharp.Ops", StringComparison.Ordinal)
                        && t.GetConstructor(Type.EmptyTypes) != null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (OpFamily)Activator.CreateInstance(t)!);
}
