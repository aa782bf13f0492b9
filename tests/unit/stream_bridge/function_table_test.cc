#include "stream_bridge/function_table.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aclkd::stream_bridge {
namespace {

FunctionDeclaration decl(std::string_view name, int timeout = 10) {
  FunctionDeclaration f;
  f.name = name;
  f.timeoutSeconds = timeout;
  f.help = "a help text";  // a view: it must point at something that outlives the call
  f.tags = "top";
  f.access = 0x13;
  f.accessKnown = true;
  f.priority = 101;
  f.version = 3;
  return f;
}

TEST(FunctionTable, ChartScopedDeclarationsOfOneNameAreOneFunction) {
  FunctionTable t;
  EXPECT_TRUE(t.declare("apps.cpu", decl("processes")));
  EXPECT_TRUE(t.declare("apps.mem", decl("processes")));
  EXPECT_FALSE(t.declare("apps.mem", decl("processes")));  // the same again: no change
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find("processes")->charts.size(), 2u);
  // It goes with its last chart.
  EXPECT_TRUE(t.remove("apps.cpu", "processes"));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.remove("apps.mem", "processes"));
  EXPECT_TRUE(t.empty());
  EXPECT_FALSE(t.remove("", "processes"));
}

TEST(FunctionTable, GlobalDeclarationsAndDefaults) {
  FunctionTable t;
  FunctionDeclaration old;
  old.name = "processes";
  t.declare("", old);
  const auto* f = t.find("processes");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->global);
  EXPECT_EQ(f->timeoutSeconds, FunctionTable::kDefaultTimeoutSeconds);
  EXPECT_EQ(f->priority, FunctionTable::kDefaultPriority);
  EXPECT_TRUE(t.remove("", "processes"));
  EXPECT_EQ(t.find("processes"), nullptr);
}

TEST(FunctionTable, ABoundedTable) {
  FunctionTable t;
  bool full = false;
  std::vector<std::string> names;
  for (size_t i = 0; i <= FunctionTable::kMaxFunctions; ++i) names.push_back("f" + std::to_string(i));
  for (size_t i = 0; i < FunctionTable::kMaxFunctions; ++i) t.declare("", decl(names[i]), &full);
  EXPECT_FALSE(full);
  EXPECT_FALSE(t.declare("", decl(names.back()), &full));
  EXPECT_TRUE(full);
  EXPECT_EQ(t.size(), FunctionTable::kMaxFunctions);
}

TEST(FunctionTable, ListsInTheAgentsForms) {
  FunctionTable t;
  t.declare("", decl("netdata-streaming"));
  t.declare("apps.cpu", decl("processes"));
  const FunctionsListHost host{"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "child", "node-1"};
  const auto v1 = nlohmann::json::parse(renderFunctionsList(t, host, 1, 100));
  EXPECT_EQ(v1["functions"]["netdata-streaming"]["options"], nlohmann::json::array({"GLOBAL"}));
  EXPECT_EQ(v1["functions"]["processes"]["options"], nlohmann::json::array());
  EXPECT_EQ(v1["functions"]["processes"]["timeout"], 10);
  EXPECT_EQ(v1["functions"]["processes"]["access"],
            nlohmann::json::array({"signed-in", "same-space", "sensitive-data"}));
  const auto v2 = nlohmann::json::parse(renderFunctionsList(t, host, 2, 100));
  EXPECT_EQ(v2["api"], 2);
  EXPECT_EQ(v2["nodes"][0]["mg"], host.machineGuid);
  EXPECT_EQ(v2["nodes"][0]["nd"], "node-1");
  ASSERT_EQ(v2["functions"].size(), 2u);
  EXPECT_EQ(v2["functions"][0]["name"], "netdata-streaming");
  EXPECT_EQ(v2["functions"][0]["priority"], 101);
  EXPECT_EQ(v2["functions"][0]["version"], 3);
  EXPECT_EQ(v2["agents"][0]["now"], 100);
}

TEST(FunctionTable, TheNameOfACall) {
  EXPECT_EQ(functionNameOf("config tree '/' ''"), "config");
  EXPECT_EQ(functionNameOf("  processes"), "processes");
  EXPECT_EQ(functionNameOf(""), "");
}

}  // namespace
}  // namespace aclkd::stream_bridge
