/**
 * Erlang as an independent peer for the ETF codec: a small Erlang module, compiled once into a
 * temp dir, run as ONE `erl` process per batch (starting erl costs ~0.3 s; per term it would be
 * minutes). Both directions print terms in the canonical form of `canonicalTerm` in
 * test/unit/nso/term-support.ts, so the two sides compare as plain strings.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

const MODULE = String.raw`
-module(etf_peer).
-export([corpus/1, roundtrip/1]).

%% corpus: every corpus term in four encodings -> "Variant<TAB>Hex<TAB>Canon" lines.
corpus([Out]) ->
    Lines = [[V, $\t, hex(term_to_binary(T, Opts)), $\t, canon(T), $\n]
             || T <- terms(), {V, Opts} <- variants()],
    ok = file:write_file(Out, Lines).

%% roundtrip: each input line is the hex of a term we encoded -> "Canon<TAB>Hex" or "ERROR".
roundtrip([In, Out]) ->
    {ok, Bin} = file:read_file(In),
    Hexes = [H || H <- binary:split(Bin, <<"\n">>, [global]), H =/= <<>>],
    Lines = [case catch binary_to_term(binary:decode_hex(H)) of
                 {'EXIT', _} -> <<"ERROR\n">>;
                 T -> [canon(T), $\t, hex(term_to_binary(T)), $\n]
             end || H <- Hexes],
    ok = file:write_file(Out, Lines).

variants() ->
    [{"default", []}, {"utf8", [{minor_version, 2}]}, {"oldfloat", [{minor_version, 0}]},
     {"compressed", [compressed]}].

terms() ->
    Ints = [0, 1, 255, 256, -1, -256, 2147483647, -2147483648, 2147483648, -2147483649,
            1 bsl 32, (1 bsl 53) - 1, 1 bsl 53, -(1 bsl 53), 1 bsl 63, (1 bsl 64) - 1, 1 bsl 64,
            -(1 bsl 64), 1 bsl 200, -(1 bsl 2040), 1 bsl 2048],
    Floats = [0.0, 1.0, -1.5, 3.141592653589793, 1.0e300, -1.0e-300, 5.0e-324,
              2.2250738585072014e-308, 123456789.125, 1.7976931348623157e308],
    Atoms = [ok, '', 'my-maapi-ctx', 'with space', 'NETCONF', true, false, undefined,
             list_to_atom([233]), list_to_atom([252, 110, 239, 99, 248, 100, 233]),
             list_to_atom([16#65E5, 16#672C]), list_to_atom([16#1F600]),
             list_to_atom(lists:duplicate(255, $a)), list_to_atom(lists:duplicate(255, 16#1F600))],
    Bins = [<<>>, <<"abc">>, <<0, 255, 7>>, binary:copy(<<"x">>, 70000),
            unicode:characters_to_binary([233, 16#1F600])],
    Lists = ["", "abc", [0, 255], lists:seq(1, 300), lists:duplicate(70000, $a), [1000, 2000],
             [a | b], [1, 2 | 3], [[] | 1], [[1244620176 | 2103098691]], [<<"a">>, {x}, [y]],
             [16#1F600, 233], [1.5 | <<"t">>]],
    Tuples = [{}, {a}, {1, 2, 3}, list_to_tuple(lists:seq(1, 300)), {{{{{deep}}}}}],
    Maps = [#{}, #{a => 1}, #{<<"k">> => [1, 2], {t} => 1.5, 7 => #{x => y}},
            maps:from_list([{I, I * I} || I <- lists:seq(1, 40)])],
    Nso = [{16, 2, {59, <<"admin">>, <<>>, cli, 4, {127, 0, 0, 1}, 0, 1795372452, <<>>, 0}, 119, 0,
            <<"c">>, <<"l">>},
           {524288, replay_complete},
           {524288, {{19, {2026, 11, 22, 18, 34, 12, 619337, 0, 0}},
                     [{[1244620176 | 2103098691], start}, {[[] | 5], {34, [{<<"d0">>}, 7]}}]}},
           {16777216, {1, 1795372452602840, undefined, <<"t">>, <<"s">>, undefined, 59, 119, 2,
                       <<"cli">>, undefined, <<"m">>, undefined, [{service, <<"/x">>}, {<<"k">>, 5}],
                       [{<<"t">>, <<"s">>}]}}],
    rand:seed(exsss, {1, 2, 3}),
    Random = [gen(4) || _ <- lists:seq(1, 300)],
    Ints ++ Floats ++ Atoms ++ Bins ++ Lists ++ Tuples ++ Maps ++ Nso ++ Random.

gen(0) -> leaf();
gen(D) ->
    case rand:uniform(10) of
        N when N =< 5 -> leaf();
        6 -> [gen(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)];
        7 -> list_to_tuple([gen(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        8 -> [gen(D - 1) | leaf()];
        9 -> maps:from_list([{leaf(), gen(D - 1)} || _ <- lists:seq(1, rand:uniform(3))]);
        10 -> [rand:uniform(255) || _ <- lists:seq(1, rand:uniform(5))]
    end.

leaf() ->
    case rand:uniform(8) of
        1 -> rand:uniform(300) - 1;
        2 -> rand:uniform(1 bsl 40) - (1 bsl 39);
        3 -> (rand:uniform(1 bsl 62) + (1 bsl 53)) * (rand:uniform(2) * 2 - 3);
        4 -> rand:uniform() * 1.0e6 - 5.0e5;
        5 -> list_to_atom([$a + rand:uniform(25) || _ <- lists:seq(1, rand:uniform(8))]);
        6 -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        7 -> [rand:uniform(16#10FF) || _ <- lists:seq(1, rand:uniform(4))];
        8 -> list_to_atom([rand:uniform(16#2FF) + 32 || _ <- lists:seq(1, rand:uniform(3))])
    end.

canon(I) when is_integer(I) -> ["{\"i\":\"", integer_to_list(I), "\"}"];
canon(F) when is_float(F) -> <<B:64>> = <<F:64/float>>, ["{\"f\":\"", integer_to_list(B, 16), "\"}"];
canon(A) when is_atom(A) -> ["{\"a\":\"", hex(atom_to_binary(A, utf8)), "\"}"];
canon(B) when is_binary(B) -> ["{\"b\":\"", hex(B), "\"}"];
canon(T) when is_tuple(T) -> ["{\"u\":[", join([canon(E) || E <- tuple_to_list(T)]), "]}"];
canon(M) when is_map(M) ->
    Pairs = lists:sort([iolist_to_binary(["[", canon(K), ",", canon(V), "]"]) || {K, V} <- maps:to_list(M)]),
    ["{\"m\":[", join(Pairs), "]}"];
canon(L) when is_list(L) ->
    {Items, Tail} = split(L, []),
    ["{\"l\":[", join([canon(E) || E <- Items]), "],\"t\":",
     case Tail of [] -> "null"; _ -> canon(Tail) end, "}"].

split([H | T], Acc) -> split(T, [H | Acc]);
split([], Acc) -> {lists:reverse(Acc), []};
split(X, Acc) -> {lists:reverse(Acc), X}.

hex(B) -> string:lowercase(binary:encode_hex(B)).

join([]) -> [];
join([H | T]) -> [H | [[",", X] || X <- T]].
`;

let compiled: Promise<string> | null = null;

/** Compiles the peer module once per test process; resolves to the directory holding the .beam. */
function peerDir(): Promise<string> {
  compiled ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etf-peer-"));
    fs.writeFileSync(path.join(dir, "etf_peer.erl"), MODULE);
    await run("erlc", ["-o", dir, path.join(dir, "etf_peer.erl")], { timeout: 30000 });
    return dir;
  })();
  return compiled;
}

async function callPeer(fn: "corpus" | "roundtrip", args: string[]): Promise<void> {
  const dir = await peerDir();
  await run("erl", ["-noshell", "-pa", dir, "-run", "etf_peer", fn, ...args, "-s", "init", "stop"], {
    timeout: 60000,
    maxBuffer: 1 << 20,
  });
}

export interface CorpusLine {
  variant: string;
  bytes: Buffer;
  canon: string;
}

/** Erlang's own `term_to_binary` of the corpus, in four encodings, with each term's canonical text. */
export async function erlCorpus(): Promise<CorpusLine[]> {
  const dir = await peerDir();
  const out = path.join(dir, `corpus-${process.pid}.txt`);
  await callPeer("corpus", [out]);
  return fs
    .readFileSync(out, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [variant, hex, canon] = l.split("\t");
      return { variant, bytes: Buffer.from(hex, "hex"), canon };
    });
}

export interface RoundTrip {
  /** null when binary_to_term refused the bytes. */
  canon: string | null;
  /** Erlang's term_to_binary of what it read. */
  bytes: Buffer | null;
}

/** `binary_to_term` in erl for each encoded term, all in one erl process. */
export async function erlRoundTrip(encoded: Buffer[]): Promise<RoundTrip[]> {
  const dir = await peerDir();
  const input = path.join(dir, `rt-in-${process.pid}-${Date.now()}.txt`);
  const output = input.replace("rt-in", "rt-out");
  fs.writeFileSync(input, encoded.map((b) => b.toString("hex")).join("\n") + "\n");
  await callPeer("roundtrip", [input, output]);
  const lines = fs
    .readFileSync(output, "utf8")
    .split("\n")
    .filter((l) => l !== "");
  return lines.map((l) => {
    if (l === "ERROR") return { canon: null, bytes: null };
    const [canon, hex] = l.split("\t");
    return { canon, bytes: Buffer.from(hex, "hex") };
  });
}

/** Removes the compiled module and batch files. */
export async function cleanupPeer(): Promise<void> {
  if (!compiled) return;
  const dir = await compiled;
  compiled = null;
  fs.rmSync(dir, { recursive: true, force: true });
}
